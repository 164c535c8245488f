"""The guide's ``get_provider_config_value``, served by multichat.runtime."""

from multichat.runtime import get_provider_config_value

__all__ = ["get_provider_config_value"]

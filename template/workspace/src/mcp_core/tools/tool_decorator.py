"""The guide's ``tool_decorator_factory``, served by multichat.runtime."""

from multichat.runtime import tool_decorator_factory

__all__ = ["tool_decorator_factory"]

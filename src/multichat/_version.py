"""The version, in a module of its own: ``multichat --version`` reads it without importing more."""

__version__ = "0.2.0"

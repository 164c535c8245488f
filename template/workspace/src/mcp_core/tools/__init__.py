"""Shim package: see tool_decorator."""

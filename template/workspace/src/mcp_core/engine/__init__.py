"""Shim package: see provider_loader."""

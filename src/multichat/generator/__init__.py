"""Render the Copier templates into a workspace and edit ``provider-config.yaml`` in place.

Used by the CLI; the runtime never imports it.
"""

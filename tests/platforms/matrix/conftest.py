"""Fixtures of the Matrix tests: a real Synapse, empty or seeded (``tests/support/synapse*.py``)."""

from support.synapse_fixtures import synapse, synapse_seeded, synapse_short_lived

__all__ = ["synapse", "synapse_seeded", "synapse_short_lived"]

"""Test support: the platforms' own API descriptions and fake platforms checked against them."""

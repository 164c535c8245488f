"""The workspace's code: providers live in src/providers/NAME."""

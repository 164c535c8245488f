"""``multichat demo``: the whole product, unattended, against the built-in sandbox platform."""

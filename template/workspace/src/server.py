"""The guide's entry point: ``python -m src.server --provider NAME [--local-auth]``.

The work is done by multichat's runtime; ``multichat run`` is the same server.
"""

from multichat.runtime import guide_server_main as main

if __name__ == "__main__":
    raise SystemExit(main())

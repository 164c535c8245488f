"""Allow `python -m multichat`."""

from multichat.cli import main

main()

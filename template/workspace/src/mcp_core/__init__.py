"""The guide's import paths, kept as thin shims over multichat.runtime."""

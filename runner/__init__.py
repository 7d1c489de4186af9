"""The kata runner: ``python -m runner --help``."""

"""The package version, recorded in every summary and hashed into every config (the layers' floor)."""

__version__ = "0.1.0"

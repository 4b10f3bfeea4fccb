"""Reeldeck core: everything that is not Qt — providers, jobs, store, engine, media, secrets, sandbox, CLI."""

__version__ = "0.1.0"

"""The kernel (settings, storage, secrets, history, inventory) and the assembly (pipeline, web app, CLI)."""

__version__ = "0.1.0"

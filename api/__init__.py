"""Composition root: wiring (Settings → objects), services shared by CLI and HTTP, the CLI and the web app."""

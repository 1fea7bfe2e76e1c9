"""Presentation shared by the CLI and HTTP: views of catalogue rows, URLs, readable reports."""

"""Preservation rules: fixity verification with graded findings, backup manifests."""

"""Access and audit: accounts, tokens, login, and the compliance use cases over the access log."""

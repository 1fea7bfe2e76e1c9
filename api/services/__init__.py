"""Use cases shared by the CLI and the HTTP API: each command or route makes one call here."""

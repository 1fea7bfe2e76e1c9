"""Preservation: fixity, backups, restore drills, reindex and initialisation."""

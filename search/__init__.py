"""Full-text search: the only package that imports whoosh. Returns our own types."""

"""Search use cases: the caller's scope goes into every query."""

"""Settings (the one pydantic-settings object) and the object-store backends behind archive's BlobStore."""

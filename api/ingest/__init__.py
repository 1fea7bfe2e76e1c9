"""Ingest: batches, intake of items, OCR jobs, review of held pages, acceptance sampling and filing."""

"""File processing: input validation, OCR, sample pages. Pure: paths and options in, results out.

No database, no storage, no settings here.
"""

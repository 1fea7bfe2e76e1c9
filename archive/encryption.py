"""Which records are stored encrypted at rest (the policy; the envelope is storage_config/encryption.py).

A record of the configured level and above (DANGAN_ENCRYPTION__MIN_LEVEL, default confidential) has its objects
and page images encrypted; a record with no level yet counts as the highest (default deny). Switching
encryption off (DANGAN_ENCRYPTION__ENABLED=false) stores new objects in the clear; encrypted ones stay readable.
A record whose level is lowered below the threshold stays encrypted (nothing is ever decrypted back into the
store); one raised to it is sealed by `dangan keys encrypt-pending`.
"""

from __future__ import annotations

from archive.values import AccessLevel


def must_encrypt(level: int | None, *, enabled: bool, min_level: str) -> bool:
    """Whether new objects of a record at `level` are stored encrypted."""
    if not enabled:
        return False
    threshold = AccessLevel.parse(min_level)
    return level is None or level >= threshold.value

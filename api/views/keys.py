"""Typed results of the master-key use cases (encryption at rest): status, rotation, recovery, sealing pending."""

from __future__ import annotations

from pydantic import Field

from api.views.base import View


class MasterKeyView(View):
    key_id: str
    state: str = Field(description="active: wraps new data keys; retired: kept for older backups' catalogues")
    created_at: str
    escrowed: bool = Field(description="In a backup run's key escrow (a lost keyring can be recovered from it)")
    objects: int = Field(description="Catalogued objects whose data key this master key wraps")


class KeyStatusView(View):
    enabled: bool
    min_level: str
    provider: str
    keyring_present: bool
    encrypted_objects: int
    pending_records: int = Field(description="Records at an encrypted level with objects still in the clear")
    keys: list[MasterKeyView]
    warnings: list[str]


class KeyRotationView(View):
    new_key_id: str
    retired: list[str]
    rewrapped: int = Field(description="Catalogue rows rewrapped (no object was rewritten)")


class KeyRecoveryView(View):
    target: str
    run_id: int
    added: list[str]
    keys: list[MasterKeyView]


class EncryptPendingView(View):
    records: int
    objects: int

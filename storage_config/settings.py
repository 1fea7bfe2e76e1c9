"""The one Settings object. Built once, in api.wiring; inner code receives plain values.

Environment: prefix ``DANGAN_``, nesting with ``__`` (``DANGAN_STORAGE__BACKEND=s3``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class S3Options(BaseModel):
    """Any S3-compatible server (MinIO, Ceph RGW, AWS S3) through the minio SDK."""

    endpoint: str = "127.0.0.1:9000"
    bucket: str = "dangan"
    access_key: SecretStr = SecretStr("")
    secret_key: SecretStr = SecretStr("")
    region: str | None = None
    secure: bool = True
    create_bucket: bool = True
    verify_writes: bool = True


class StorageOptions(BaseModel):
    backend: Literal["local", "s3"] = "local"
    path: Path | None = None  # local backend root; default <home>/objects
    s3: S3Options = Field(default_factory=S3Options)


class BackupTargetOptions(BaseModel):
    """A backup target declared in settings (DANGAN_BACKUP_TARGETS__<NAME>__KIND=local ...); no secrets here:
    S3 keys come from DANGAN_BACKUP_<NAME>_ACCESS_KEY/_SECRET_KEY or the credentials file."""

    kind: Literal["local", "s3"] = "local"
    path: Path | None = None
    endpoint: str | None = None
    bucket: str | None = None
    secure: bool = True
    region: str | None = None
    credentials_file: Path | None = None


class ServerOptions(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000
    # HTTP worker processes of `dangan serve` (DANGAN_SERVER__WORKERS); one job runner among them in any case.
    # Not yet one per core by default: stopping a multi-process server can leave the runner's OCR workers behind.
    workers: int = Field(default=1, ge=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DANGAN_", env_nested_delimiter="__", extra="ignore", case_sensitive=False
    )

    home: Path = Path("./var")
    database_url: str | None = None  # default: sqlite under home
    index_dir: Path | None = None  # default: <home>/index
    search_engine: Literal["whoosh", "tantivy"] = "whoosh"  # changing it needs `dangan reindex`
    storage: StorageOptions = Field(default_factory=StorageOptions)
    ocr_languages: str = "chi_sim+eng"
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    ocr_page_timeout_seconds: float = 180.0
    default_fonds: str = "F001"
    default_level: str = "internal"
    assumed_dpi: int = 300  # for images that carry no resolution
    token_days: int = 90
    separate_reviewer: bool = True  # the reviewer of a sample is not who scanned or uploaded its pages
    cli_user: str | None = None  # DANGAN_CLI_USER: the account the command line acts as (default: the login name)
    max_upload_mb: int = Field(default=2048, ge=1)
    audit_key_path: Path | None = None  # Ed25519 key that signs log checkpoints; default <home>/keys/audit-ed25519.pem
    audit_checkpoint_every: int = Field(default=1000, ge=1)  # a signed checkpoint after this many new events
    audit_retention_days: int = Field(default=183, ge=183)  # at least six months; pruning never goes further
    server: ServerOptions = Field(default_factory=ServerOptions)
    backup_targets: dict[str, BackupTargetOptions] = Field(default_factory=dict)

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home_dir / 'catalogue.sqlite3'}"

    @property
    def resolved_index_dir(self) -> Path:
        return (self.index_dir or self.home_dir / "index").expanduser().resolve()

    @property
    def resolved_storage_path(self) -> Path:
        return (self.storage.path or self.home_dir / "objects").expanduser().resolve()

    @property
    def resolved_audit_key_path(self) -> Path:
        return (self.audit_key_path or self.home_dir / "keys" / "audit-ed25519.pem").expanduser().resolve()

    @property
    def spool_dir(self) -> Path:
        """Uploaded and queued files wait here until their job is done."""
        return self.home_dir / "spool"

    @property
    def private_paths(self) -> tuple[Path, ...]:
        """The server's own folders: never shown in a message to a user (see archive.redact.hide_paths)."""
        return (self.home_dir, self.spool_dir, self.resolved_storage_path, self.resolved_index_dir)

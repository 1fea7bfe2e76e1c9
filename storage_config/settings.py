"""The one Settings object. Built once, in api.wiring; inner code receives plain values.

Environment: prefix ``DANGAN_``, nesting with ``__`` (``DANGAN_STORAGE__BACKEND=s3``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from archive.errors import ConfigurationError

ENV_PREFIX = "DANGAN_"
ENV_NESTING = "__"


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
    port: int = Field(default=8000, ge=1, le=65535)
    # HTTP worker processes of `dangan serve` (DANGAN_SERVER__WORKERS); one job runner among them in any case.
    # Not yet one per core by default: stopping a multi-process server can leave the runner's OCR workers behind.
    workers: int = Field(default=1, ge=1)


class FaultOptions(BaseModel):
    """How the archive meets passing faults (DANGAN_FAULTS__<NAME>): leases, retries, reserves."""

    # A worker holds a job by a lease it renews every third of this; a job whose lease ran out is taken over.
    job_lease_seconds: float = Field(default=60.0, ge=1.0)
    # A job whose runner died this many times while holding it (kill -9, out of memory) fails instead of running.
    poison_deaths: int = Field(default=3, ge=1)
    # On SIGTERM a runner lets the jobs in hand finish for this long, then hands the rest back (queued).
    shutdown_grace_seconds: float = Field(default=10.0, ge=0.0)
    # A job that met a passing fault waits this long before its next try, doubling up to the maximum.
    retry_first_seconds: float = Field(default=5.0, ge=0.0)
    retry_max_seconds: float = Field(default=300.0, ge=0.0)
    # Ingest refuses new work when a data disk would fall below this much free space (0: only a full disk).
    free_space_reserve_mb: int = Field(default=256, ge=0)
    # One object-store call waits at most this long; it is tried `store_retries` more times with backoff.
    store_timeout_seconds: float = Field(default=10.0, gt=0.0)
    store_retries: int = Field(default=2, ge=0)
    # After a failure that exhausted its retries, calls fail at once for this long (the circuit is open).
    store_breaker_seconds: float = Field(default=15.0, ge=0.0)
    # A write transaction waits at most this long for the catalogue's write lock.
    db_busy_seconds: float = Field(default=30.0, gt=0.0)


class ScheduleOptions(BaseModel):
    """`dangan scheduler`: how often each duty runs (0 switches it off). A duty is due when its last run (table
    schedule_run) started longer ago than its interval; the scheduler looks every `tick_seconds`."""

    backup_hours: float = Field(default=24.0, ge=0.0)  # a backup run to every target
    verify_sample_hours: float = Field(default=24.0, ge=0.0)  # a sample verification of the primary store
    verify_sample_percent: float = Field(default=5.0, gt=0.0, le=100.0)
    drill_days: float = Field(default=7.0, ge=0.0)  # a restore drill from every target that has a backup
    drill_sample: int = Field(default=50, ge=1)
    checkpoint_minutes: float = Field(default=60.0, ge=0.0)  # a signed checkpoint of the access log
    compliance_days: float = Field(default=91.0, ge=0.0)  # the quarterly compliance report
    retention_due_days: float = Field(default=7.0, ge=0.0)  # the retention due list, weekly
    retention_due_within_days: int = Field(default=90, ge=0, le=3660)  # ... counting those due this soon
    tick_seconds: float = Field(default=30.0, gt=0.0)


class EncryptionOptions(BaseModel):
    """Encryption at rest (storage_config/encryption.py): records of `min_level` and above are stored encrypted
    (DANGAN_ENCRYPTION__MIN_LEVEL, DANGAN_ENCRYPTION__ENABLED=false to store everything new in the clear)."""

    enabled: bool = True
    min_level: str = "confidential"  # public | internal | confidential | secret | top_secret
    provider: str = "file"  # a name in storage_config.keyring.KEY_PROVIDERS
    key_file: Path | None = None  # the file provider's keyring; default <home>/keys/master-keys.json


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter=ENV_NESTING, extra="ignore", case_sensitive=False
    )

    home: Path = Path("./var")
    database_url: str | None = None  # default: sqlite under home
    index_dir: Path | None = None  # default: <home>/index
    search_engine: Literal["whoosh", "tantivy"] = "whoosh"  # changing it needs `dangan reindex`
    storage: StorageOptions = Field(default_factory=StorageOptions)
    ocr_languages: str = "chi_sim+eng"
    ocr_engine: str = "auto"  # a name in ingest.engines.ENGINES (auto|tesseract|ppocr|null), checked by api
    ocr_threads: int = Field(default=1, ge=1)  # PP-OCR's ONNX Runtime threads per worker process
    ocr_execution_provider: Literal["cpu", "cuda"] = "cpu"  # PP-OCR's ONNX Runtime execution provider
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    ocr_page_timeout_seconds: float = 180.0
    default_fonds: str = "F001"
    default_level: str = "internal"
    assumed_dpi: int = 300  # for images that record no resolution and have too little text to estimate it from
    token_days: int = 90
    separate_reviewer: bool = True  # the reviewer of a sample is not who scanned or uploaded its pages
    cli_user: str | None = None  # DANGAN_CLI_USER: the account the command line acts as (default: the login name)
    max_upload_mb: int = Field(default=2048, ge=1)
    audit_key_path: Path | None = None  # Ed25519 key that signs log checkpoints; default <home>/keys/audit-ed25519.pem
    audit_checkpoint_every: int = Field(default=1000, ge=1)  # a signed checkpoint after this many new events
    # ... or once the newest checkpoint is this old and events came after it, whichever comes first
    audit_checkpoint_seconds: float = Field(default=3600.0, gt=0)
    audit_retention_days: int = Field(default=183, ge=183)  # at least six months; pruning never goes further
    server: ServerOptions = Field(default_factory=ServerOptions)
    faults: FaultOptions = Field(default_factory=FaultOptions)
    schedule: ScheduleOptions = Field(default_factory=ScheduleOptions)
    backup_targets: dict[str, BackupTargetOptions] = Field(default_factory=dict)
    encryption: EncryptionOptions = Field(default_factory=EncryptionOptions)
    # The secret each backup run seals the audit signing key with (archive/preservation/escrow.py), and a
    # restore opens it with: a passphrase or a key file of 32+ random bytes, one of them, kept off this machine.
    backup_escrow_passphrase: SecretStr | None = None
    backup_escrow_key_file: Path | None = None
    # Share of the copies already on a target that each backup run re-hashes, replacing the changed ones.
    backup_check_copies_percent: float = Field(default=100.0, ge=0, le=100)

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
    def resolved_keyring_path(self) -> Path:
        return (self.encryption.key_file or self.home_dir / "keys" / "master-keys.json").expanduser().resolve()

    @property
    def spool_dir(self) -> Path:
        """Uploaded and queued files wait here until their job is done."""
        return self.home_dir / "spool"

    @property
    def private_paths(self) -> tuple[Path, ...]:
        """The server's own folders: never shown in a message to a user (see archive.redact.hide_paths)."""
        return (self.home_dir, self.spool_dir, self.resolved_storage_path, self.resolved_index_dir)


SECRET_WORDS = ("key", "secret", "password", "token")  # settings whose given value is never echoed


def settings_error(exc: ValidationError) -> ConfigurationError:
    """One line naming each bad variable, the value given and what it must be:
    `DANGAN_SEARCH_ENGINE=elastic: must be one of whoosh, tantivy`."""
    problems = []
    for error in exc.errors():
        parts = [str(part) for part in error["loc"]]
        name = ENV_PREFIX + ENV_NESTING.join(parts).upper()
        given = error.get("input")
        secret = any(word in part.lower() for part in parts for word in SECRET_WORDS)
        shown = "(hidden)" if secret else given if isinstance(given, str) else "(missing)"
        problems.append(f"{name}={shown}: {_constraint(error['type'], error['msg'], error.get('ctx') or {})}")
    return ConfigurationError("; ".join(problems))


def settings_parse_error(exc: Exception) -> ConfigurationError:
    """A nested setting (DANGAN_SERVER, DANGAN_STORAGE, ...) whose value is not the JSON object it must be."""
    found = re.search(r'field "(\w+)"', str(exc))
    name = ENV_PREFIX + (found.group(1).upper() if found else "...")
    return ConfigurationError(
        f"{name}: must be a JSON object, or set its parts one by one ({name}{ENV_NESTING}PART=value)"
    )


def _constraint(kind: str, message: str, ctx: dict[str, Any]) -> str:
    if kind in ("literal_error", "enum"):
        return "must be one of " + ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", message))))
    named = {
        "int_parsing": "must be a whole number",
        "int_from_float": "must be a whole number",
        "float_parsing": "must be a number",
        "bool_parsing": "must be true or false",
        "greater_than_equal": f"must be at least {ctx.get('ge')}",
        "greater_than": f"must be more than {ctx.get('gt')}",
        "less_than_equal": f"must be at most {ctx.get('le')}",
        "less_than": f"must be less than {ctx.get('lt')}",
    }
    return named.get(kind) or message[:1].lower() + message[1:]

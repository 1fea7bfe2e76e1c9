"""Backup targets: register, list, remove, and open one (credentials from env or a file, never stored)."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from api.views.preservation import TargetList, TargetRemoved, TargetView
from api.wiring import Context
from archive.access import Principal
from archive.audit import log as audit
from archive.errors import ConfigurationError, Conflict, InvalidInput, NotFound
from archive.events import AuditAction
from archive.models import BackupTarget
from archive.permissions import Action, authorize
from archive.ports import BlobStore
from storage_config.settings import Settings
from storage_config.stores import open_target_store

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class TargetSpec:
    """Where a target is; the same shape whether it was registered or declared in settings."""

    name: str
    kind: str
    path: str | None = None
    endpoint: str | None = None
    bucket: str | None = None
    secure: bool = True
    region: str | None = None
    credentials_file: str | None = None
    source: str = "catalogue"

    def view(self) -> TargetView:
        return TargetView(
            name=self.name,
            kind=self.kind,
            path=self.path,
            endpoint=self.endpoint,
            bucket=self.bucket,
            secure=self.secure,
            region=self.region,
            credentials_file=self.credentials_file,
            source=self.source,
        )


def env_prefix(name: str) -> str:
    return "DANGAN_BACKUP_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


def resolve_credentials(spec: TargetSpec) -> tuple[str, str]:
    """Access and secret key: DANGAN_BACKUP_<NAME>_ACCESS_KEY/_SECRET_KEY, else the credentials file.

    The file holds two lines (access key, secret key) or KEY=VALUE lines (ACCESS_KEY=..., SECRET_KEY=...)."""
    prefix = env_prefix(spec.name)
    access, secret = os.environ.get(f"{prefix}_ACCESS_KEY", ""), os.environ.get(f"{prefix}_SECRET_KEY", "")
    if access and secret:
        return access, secret
    if spec.credentials_file:
        try:
            lines = [line.strip() for line in Path(spec.credentials_file).read_text().splitlines() if line.strip()]
        except OSError as exc:
            raise ConfigurationError(
                f"cannot read the credentials file of backup target {spec.name!r}: {exc.strerror}"
            ) from exc
        pairs = dict(line.split("=", 1) for line in lines if "=" in line)
        found = {k.strip().upper().removeprefix("AWS_"): v.strip() for k, v in pairs.items()}
        if "ACCESS_KEY" in found or "ACCESS_KEY_ID" in found:
            access = found.get("ACCESS_KEY", found.get("ACCESS_KEY_ID", ""))
            secret = found.get("SECRET_KEY", found.get("SECRET_ACCESS_KEY", ""))
        elif len(lines) >= 2:
            access, secret = lines[0], lines[1]
        if access and secret:
            return access, secret
    raise ConfigurationError(
        f"backup target {spec.name!r} has no S3 credentials; set {prefix}_ACCESS_KEY and {prefix}_SECRET_KEY "
        "or give --credentials-file"
    )


class BackupTargets:
    def __init__(self, context: Context) -> None:
        self.context = context

    def add(self, principal: Principal, spec: TargetSpec) -> TargetView:
        authorize(principal.roles, Action.RUN_BACKUP)
        if not _NAME.match(spec.name):
            raise InvalidInput(
                f"backup target name {spec.name!r}: use lowercase letters, digits, '-' and '_'",
                InvalidInput.TARGET_NAME,
                {"name": spec.name},
            )
        if spec.kind == "local" and not spec.path:
            raise InvalidInput(
                "a local backup target needs the path of a directory (--path DIR)", InvalidInput.TARGET_NEEDS_PATH
            )
        if spec.kind == "s3" and not (spec.endpoint and spec.bucket):
            raise InvalidInput(
                "an S3 backup target needs an endpoint and a bucket (--s3-endpoint, --bucket)",
                InvalidInput.TARGET_NEEDS_BUCKET,
            )
        if spec.kind not in ("local", "s3"):
            raise InvalidInput(
                f"backup target kind {spec.kind!r} is not local or s3", InvalidInput.TARGET_KIND, {"kind": spec.kind}
            )
        path = str(Path(spec.path).expanduser().resolve()) if spec.path else None
        if path and Path(path).is_relative_to(self.context.settings.home_dir):
            raise InvalidInput(
                "a backup target must not live inside the archive's own data directory",
                InvalidInput.TARGET_INSIDE_ARCHIVE,
            )
        with self.context.db.write() as session:
            if session.scalars(select(BackupTarget).where(BackupTarget.name == spec.name)).first() is not None:
                raise Conflict(
                    f"backup target {spec.name!r} exists; remove it first to change it",
                    Conflict.BACKUP_TARGET_EXISTS,
                    {"name": spec.name},
                )
            row = BackupTarget(
                name=spec.name,
                kind=spec.kind,
                path=path,
                endpoint=spec.endpoint,
                bucket=spec.bucket,
                secure=spec.secure,
                region=spec.region,
                credentials_file=spec.credentials_file,
                created_by=principal.username,
            )
            session.add(row)
            audit.record(
                session, actor=principal.username, action=AuditAction.BACKUP_TARGET_ADD, target=f"backup:{spec.name}"
            )
            return _spec(row).view()

    def list(self, principal: Principal) -> TargetList:
        authorize(principal.roles, Action.READ_BACKUPS)
        return TargetList(targets=[spec.view() for spec in self.specs()])

    def specs(self) -> Sequence[TargetSpec]:
        """Every target, registered or declared in settings, by name (for the system's own use: no caller)."""
        with self.context.db.session() as session:
            rows = [_spec(row) for row in session.scalars(select(BackupTarget).order_by(BackupTarget.name))]
        names = {spec.name for spec in rows}
        declared = [spec for spec in _declared(self.context) if spec.name not in names]
        return sorted([*rows, *declared], key=lambda s: s.name)

    def remove(self, principal: Principal, name: str) -> TargetRemoved:
        authorize(principal.roles, Action.RUN_BACKUP)
        with self.context.db.write() as session:
            row = session.scalars(select(BackupTarget).where(BackupTarget.name == name)).first()
            if row is None:
                raise NotFound(f"no registered backup target {name!r}; list them with `dangan backup target list`")
            session.delete(row)
            audit.record(
                session, actor=principal.username, action=AuditAction.BACKUP_TARGET_REMOVE, target=f"backup:{name}"
            )
        return TargetRemoved(removed=name)

    def spec(self, name: str) -> TargetSpec:
        with self.context.db.session() as session:
            row = session.scalars(select(BackupTarget).where(BackupTarget.name == name)).first()
            if row is not None:
                return _spec(row)
        for spec in _declared(self.context):
            if spec.name == name:
                return spec
        raise NotFound(f"no backup target {name!r}; add one with `dangan backup target add {name} --path DIR`")

    def open(self, spec: TargetSpec) -> BlobStore:
        return open_spec(spec, self.context.settings)


def open_spec(spec: TargetSpec, settings: Settings) -> BlobStore:
    """The store of a target (S3 credentials resolved now, from the environment or the credentials file)."""
    access, secret = resolve_credentials(spec) if spec.kind == "s3" else ("", "")
    return open_target_store(
        kind=spec.kind,
        path=spec.path,
        endpoint=spec.endpoint,
        bucket=spec.bucket,
        access_key=access,
        secret_key=secret,
        secure=spec.secure,
        region=spec.region,
        faults=settings.faults,
    )


def declared_spec(settings: Settings, name: str) -> TargetSpec | None:
    """A target declared in settings by this name (what a restore on an empty machine can know of)."""
    return next((spec for spec in declared_specs(settings) if spec.name == name), None)


def _spec(row: BackupTarget) -> TargetSpec:
    return TargetSpec(
        name=row.name,
        kind=row.kind,
        path=row.path,
        endpoint=row.endpoint,
        bucket=row.bucket,
        secure=row.secure,
        region=row.region,
        credentials_file=row.credentials_file,
    )


def _declared(context: Context) -> list[TargetSpec]:
    return declared_specs(context.settings)


def declared_specs(settings: Settings) -> list[TargetSpec]:
    return [
        TargetSpec(
            name=name,
            kind=options.kind,
            path=str(options.path) if options.path else None,
            endpoint=options.endpoint,
            bucket=options.bucket,
            secure=options.secure,
            region=options.region,
            credentials_file=str(options.credentials_file) if options.credentials_file else None,
            source="settings",
        )
        for name, options in settings.backup_targets.items()
    ]

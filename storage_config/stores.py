"""Storage backends by name: the one place that turns Settings into a BlobStore.

The S3 backend (and the minio SDK) is imported only when an S3 store is opened. An S3 store is wrapped in a
ResilientStore (timeouts, bounded retries with jittered backoff, a circuit breaker: settings.faults.store_*).
The local store is not: a file system call cannot be given a timeout, retrying a local disk error (a full
disk, a permission) only repeats it, and a breaker would turn one unwritable file into refused uploads for
everyone; its faults are reported by the call itself."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from archive.errors import ConfigurationError
from archive.ports import BlobStore
from storage_config.local_store import LocalBlobStore
from storage_config.resilience import ResilientStore
from storage_config.settings import FaultOptions, Settings


def _local_store(settings: Settings) -> BlobStore:
    return LocalBlobStore(settings.resolved_storage_path)


def _s3_store(settings: Settings) -> BlobStore:
    from storage_config.s3_store import S3BlobStore

    options, faults = settings.storage.s3, settings.faults
    store = S3BlobStore(
        endpoint=options.endpoint,
        bucket=options.bucket,
        access_key=options.access_key.get_secret_value(),
        secret_key=options.secret_key.get_secret_value(),
        secure=options.secure,
        region=options.region,
        create_bucket=options.create_bucket,
        verify_writes=options.verify_writes,
        timeout_seconds=faults.store_timeout_seconds,
    )
    return resilient(store, where=store.where, faults=faults)


def resilient(store: BlobStore, *, where: str, faults: FaultOptions) -> ResilientStore:
    """`store` behind retries and a circuit breaker, as settings.faults says."""
    retries, seconds = faults.store_retries, faults.store_breaker_seconds
    return ResilientStore(store, where=where, retries=retries, breaker_seconds=seconds)


STORE_FACTORIES: dict[str, Callable[[Settings], BlobStore]] = {
    "local": _local_store,
    "s3": _s3_store,
}


def open_store(settings: Settings) -> BlobStore:
    """The store settings.storage.backend names (a new backend only needs an entry above)."""
    backend = settings.storage.backend
    factory = STORE_FACTORIES.get(backend)
    if factory is None:
        known = ", ".join(sorted(STORE_FACTORIES))
        raise ConfigurationError(f"unknown storage backend {backend!r}; set DANGAN_STORAGE__BACKEND to one of: {known}")
    return factory(settings)


def open_target_store(
    *,
    kind: str,
    path: str | None = None,
    endpoint: str | None = None,
    bucket: str | None = None,
    access_key: str = "",
    secret_key: str = "",
    secure: bool = True,
    region: str | None = None,
    faults: FaultOptions | None = None,
) -> BlobStore:
    """The BlobStore of a backup target: a local directory or an S3 bucket (created when absent); an S3 one
    behind the same timeouts, retries and breaker as the primary store (`faults`, default the defaults)."""
    if kind == "local" and path:
        return LocalBlobStore(Path(path), place="backup target")
    if kind == "s3" and endpoint and bucket:
        from storage_config.s3_store import S3BlobStore

        faults = faults or FaultOptions()
        target = S3BlobStore(
            endpoint=endpoint,
            bucket=bucket,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            timeout_seconds=faults.store_timeout_seconds,
        )
        return resilient(target, where=target.where, faults=faults)
    raise ConfigurationError(
        f"backup target of kind {kind!r} needs a path (local) or an endpoint and a bucket (s3); "
        "re-register it with `dangan backup target add`"
    )

"""Storage backends by name: the one place that turns Settings into a BlobStore.

The S3 backend (and the minio SDK) is imported only when an S3 store is opened."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from archive.errors import ConfigurationError
from archive.ports import BlobStore
from storage_config.local_store import LocalBlobStore
from storage_config.settings import Settings


def _local_store(settings: Settings) -> BlobStore:
    return LocalBlobStore(settings.resolved_storage_path)


def _s3_store(settings: Settings) -> BlobStore:
    from storage_config.s3_store import S3BlobStore

    options = settings.storage.s3
    return S3BlobStore(
        endpoint=options.endpoint,
        bucket=options.bucket,
        access_key=options.access_key.get_secret_value(),
        secret_key=options.secret_key.get_secret_value(),
        secure=options.secure,
        region=options.region,
        create_bucket=options.create_bucket,
        verify_writes=options.verify_writes,
    )


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
) -> BlobStore:
    """The BlobStore of a backup target: a local directory or an S3 bucket (created when absent)."""
    if kind == "local" and path:
        return LocalBlobStore(Path(path), place="backup target")
    if kind == "s3" and endpoint and bucket:
        from storage_config.s3_store import S3BlobStore

        return S3BlobStore(
            endpoint=endpoint,
            bucket=bucket,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
        )
    raise ConfigurationError(
        f"backup target of kind {kind!r} needs a path (local) or an endpoint and a bucket (s3); "
        "re-register it with `dangan backup target add`"
    )

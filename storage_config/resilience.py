"""Bounded retries with backoff and full jitter, and a circuit breaker, around any BlobStore.

A store that is down or slow must cost one timeout, not one per object: a call whose tries are all used up
opens the store's breaker, and for `breaker_seconds` every call then fails at once with StorageUnavailable
(its `retry_after` the seconds left). When the interval is over one call is let through as a probe (the
half-open state, a single try); its success closes the breaker, its failure opens it again.

Every BlobStore operation is idempotent (objects are content-addressed, and a put of the same key sends the
same bytes again), so each is retried. Only StorageUnavailable (a timeout, a refused or dropped connection, a
5xx) is retried and opens the breaker; any other answer (NotFound, an IntegrityFailure) proves the store is
there. Thread-safe: the job runner files from several threads through one store.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO, TypeVar

from archive.errors import DanganError, StorageUnavailable
from archive.ports import BlobInfo, BlobStore

T = TypeVar("T")

BACKOFF_FIRST_SECONDS = 0.2  # the first wait between tries is up to this long, each next one up to twice that
BACKOFF_MAX_SECONDS = 5.0


class BreakerState(StrEnum):
    CLOSED = "closed"  # calls go through
    OPEN = "open"  # calls fail at once
    HALF_OPEN = "half_open"  # the interval is over: the next call is a probe (or a probe is under way)


def full_jitter(attempt: int, *, first: float = BACKOFF_FIRST_SECONDS, maximum: float = BACKOFF_MAX_SECONDS) -> float:
    """The wait before try `attempt + 2`: uniform in [0, min(maximum, first * 2**attempt)] ("full jitter")."""
    return random.uniform(0.0, min(maximum, first * 2.0**attempt))


class CircuitBreaker:
    """Open after a failure that used up its retries; half-open (one probe) once `open_seconds` have passed.
    With `open_seconds` 0 it never opens: every call is tried with all its retries."""

    def __init__(self, *, where: str, open_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.where = where
        self.open_seconds = open_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._open_until: float | None = None
        self._probing = False
        self._last_error = ""
        self.opened = 0  # how many times it opened (for tests and benchmarks)

    @property
    def state(self) -> BreakerState:
        with self._lock:
            if self._open_until is None:
                return BreakerState.CLOSED
            return BreakerState.OPEN if self._clock() < self._open_until else BreakerState.HALF_OPEN

    def check(self) -> None:
        """Raise StorageUnavailable while open (no I/O, for every request); a half-open breaker lets callers on."""
        with self._lock:
            if self._open_until is not None and self._clock() < self._open_until:
                raise self._refusal(self._open_until - self._clock())

    def admit(self) -> bool:
        """Before a call: raise while open or while another call probes; True when this call is the probe."""
        with self._lock:
            if self._open_until is None:
                return False
            now = self._clock()
            if now < self._open_until:
                raise self._refusal(self._open_until - now)
            if self._probing:
                raise self._refusal(1.0)
            self._probing = True
            return True

    def succeeded(self) -> None:
        with self._lock:
            self._open_until, self._probing = None, False

    def failed(self, exc: StorageUnavailable) -> None:
        """A call used up its retries: open for `open_seconds` (never, with 0: the breaker is off)."""
        if self.open_seconds <= 0:
            return
        with self._lock:
            self._open_until = self._clock() + self.open_seconds
            self._probing = False
            self._last_error = exc.message
            self.opened += 1

    def abandoned(self) -> None:
        """A probe ended without an answer from the store (e.g. the runner stopped): the next call probes."""
        with self._lock:
            self._probing = False

    def _refusal(self, remaining: float) -> StorageUnavailable:
        seconds = max(1, math.ceil(remaining))
        return StorageUnavailable(
            f"the object store ({self.where}) is out of reach: its last call failed after every retry, so calls "
            f"are refused for {seconds} s more and then tried again ({self._last_error})",
            retry_after=seconds,
        )


class ResilientStore:
    """A BlobStore whose calls are retried (`retries` more tries, full-jitter backoff) behind a circuit breaker."""

    def __init__(
        self,
        inner: BlobStore,
        *,
        where: str,
        retries: int,
        breaker_seconds: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.retries = retries
        self.breaker = CircuitBreaker(where=where, open_seconds=breaker_seconds)
        self._sleep = sleep

    def _call(self, operation: Callable[[], T]) -> T:
        probe = self.breaker.admit()
        tries = 1 if probe else self.retries + 1
        for attempt in range(tries):
            try:
                result = operation()
            except StorageUnavailable as exc:
                if attempt + 1 < tries:
                    self._sleep(full_jitter(attempt))
                    continue
                self.breaker.failed(exc)
                raise
            except DanganError:  # NotFound, IntegrityFailure, ...: the store answered
                self.breaker.succeeded()
                raise
            except BaseException:
                if probe:
                    self.breaker.abandoned()
                raise
            self.breaker.succeeded()
            return result
        raise AssertionError("unreachable: the last try returns or raises")

    def check_available(self) -> None:
        self.breaker.check()

    def put_file(self, key: str, path: Path, *, expected_sha256: str | None = None) -> BlobInfo:
        return self._call(lambda: self.inner.put_file(key, path, expected_sha256=expected_sha256))

    def put_bytes(self, key: str, data: bytes) -> BlobInfo:
        return self._call(lambda: self.inner.put_bytes(key, data))

    def open_read(self, key: str) -> BinaryIO:
        return self._call(lambda: self.inner.open_read(key))

    def stat(self, key: str) -> BlobInfo | None:
        return self._call(lambda: self.inner.stat(key))

    def delete(self, key: str) -> None:
        self._call(lambda: self.inner.delete(key))

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        """Listed whole inside one try, so a retry never yields a key twice (callers sort the keys anyway)."""
        yield from self._call(lambda: list(self.inner.iter_keys(prefix)))

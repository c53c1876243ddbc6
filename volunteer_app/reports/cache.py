"""A plain memo for the dashboard's heavy results: a value is reused only at the version it was computed at.

The caller gives the key and the version (reports/queries.py: the filter and a fingerprint of the data it
reads), so a stale value is never served. Each app process has its own memo of at most MAX_ENTRIES.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

T = TypeVar("T")
MAX_ENTRIES = 256

_entries: OrderedDict[Hashable, tuple[tuple, object]] = OrderedDict()
_lock = threading.Lock()


def remember(kind: str, key: tuple, version: tuple, compute: Callable[[], T]) -> T:
    """The cached value of (kind, key) if it was computed at this data version, else compute and keep it."""
    full_key = (kind,) + key
    with _lock:
        hit = _entries.get(full_key)
        if hit is not None and hit[0] == version:
            _entries.move_to_end(full_key)
            return hit[1]  # type: ignore[return-value]
    value = compute()
    with _lock:
        _entries[full_key] = (version, value)
        _entries.move_to_end(full_key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def clear() -> None:
    """Forget everything (tests, and the benchmark's cold runs)."""
    with _lock:
        _entries.clear()

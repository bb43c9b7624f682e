"""One malloc arena for the web process's threads.

glibc gives each thread that allocates memory outside Python's small-object allocator (SQLite's pages, zlib,
large strings) an arena of its own, up to eight per core, and keeps the pages an arena once used. A server's
threads take turns at the large exports, so each grows its own arena to an export's size: measured with the
ledger's 100k-row exports through waitress's four threads (.xlsx, CSV, .xlsx, CSV), the process kept
142 → 152 → 167 → 183 MiB after each, and with one arena 136 → 144 → 146 → 146 MiB. Python's interpreter lock already lets one
thread allocate at a time, so one arena costs no waiting worth measuring. ``MALLOC_ARENA_MAX`` in the
environment, when set, is left to decide."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

M_ARENA_MAX = -8  # mallopt's parameter number in glibc's malloc.h
log = logging.getLogger(__name__)


def limit_malloc_arenas(arenas: int = 1) -> bool:
    """Call before the server starts its threads (threads that have allocated keep their arena). False where
    the C library is not glibc or the environment already says how many arenas."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        libc = None
    mallopt = getattr(libc, "mallopt", None) if libc is not None else None
    if mallopt is None or not hasattr(libc, "gnu_get_libc_version"):
        return False
    if mallopt(M_ARENA_MAX, arenas) != 1:
        log.warning("mallopt(M_ARENA_MAX, %d) was refused", arenas)
        return False
    return True

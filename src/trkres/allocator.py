"""Allocator settings for the command line's process (never applied on import).

Large inputs make trkres allocate and free arrays of tens to hundreds of MB
many times over (a 1,000,000-row MAF: ~130 MB per text column pass). glibc's
malloc serves every block above its mmap threshold (at most 32 MB) with a fresh
``mmap`` and hands it back on ``free``, so the next array of that size faults
every page in again. On the 1,000,000-row classify benchmark that is about
3 s of system time out of 15 s. Raising the threshold and keeping freed memory
in the heap lets those pages be reused; the peak resident size grows by a few
percent.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys

# mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: Blocks up to this size come from the heap (glibc caps it at 32 MB on 64-bit).
MMAP_THRESHOLD = 1 << 30
#: Free memory kept at the heap's top before it is given back to the system.
TRIM_THRESHOLD = (1 << 31) - 1


def reuse_freed_memory() -> bool:
    """Ask glibc to keep freed memory for reuse; True when the settings were taken.

    Only on Linux with glibc; elsewhere (macOS, musl) it does nothing. The
    command line calls it once at start-up; the Python API leaves the
    process's allocator alone.
    """
    if not sys.platform.startswith("linux"):
        return False
    with contextlib.suppress(OSError, AttributeError):
        mallopt = ctypes.CDLL(None).mallopt  # the running process's C library
        mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        taken = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        taken &= mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
        return bool(taken)
    return False

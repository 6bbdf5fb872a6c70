"""One lock for the machine's one real node, shared between pytest sessions.

The app tests hold it shared (several sessions may deploy side by side, each in its own
namespace); the teardown test, which stops and restarts the node, holds it exclusively.
"""
from __future__ import annotations

import contextlib
import fcntl
import tempfile
from pathlib import Path

LOCK = Path(tempfile.gettempdir()) / "oui-real-node.lock"


@contextlib.contextmanager
def real_node_lock(*, exclusive: bool):
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield

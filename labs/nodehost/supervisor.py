"""Keeps the node host's worker process alive: if it dies (even by kill -9) it is started again, and every
node comes back on its port with its data. In production a service manager (systemd) supervises this
supervisor; see docs/ARCHITECTURE.md."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from types import FrameType

logger = logging.getLogger(__name__)

BACKOFF_START = 0.5
BACKOFF_MAX = 30.0
STABLE_AFTER = 60.0


def supervise(command: Sequence[str]) -> int:
    """Run ``command`` and restart it whenever it exits, until SIGTERM or SIGINT; returns the exit code."""
    stopping = threading.Event()
    child: subprocess.Popen[bytes] | None = None

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    backoff = BACKOFF_START
    while True:
        started = time.monotonic()
        child = subprocess.Popen(list(command))
        logger.info("node host supervisor: worker pid %d started", child.pid)
        code = child.wait()
        if stopping.is_set():
            return 0
        ran = time.monotonic() - started
        backoff = BACKOFF_START if ran > STABLE_AFTER else min(BACKOFF_MAX, backoff * 2)
        logger.error("node host worker exited with %s after %.1f s; restarting in %.1f s", code, ran, backoff)
        if stopping.wait(backoff):
            return 0


def worker_command(extra: Sequence[str]) -> list[str]:
    import os

    return [sys.executable, sys.argv[0], "nodehost", "--worker", "--parent-pid", str(os.getpid()), *extra]

"""Platform-level Celery tasks."""

from __future__ import annotations

import os
import socket

from celery import shared_task

from trainer.core.taskbase import PlatformTask


@shared_task(base=PlatformTask, name="core.ping")
def ping(token: str) -> dict[str, str | int]:
    """Round-trip probe: proves a real worker took the message from the broker and answered."""
    return {"token": token, "worker_pid": os.getpid(), "worker_host": socket.gethostname()}

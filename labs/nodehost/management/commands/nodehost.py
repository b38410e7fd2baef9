"""``manage.py nodehost``: run every learner's DICOM node on this machine (supervised worker)."""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import replace
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from labs.nodehost.host import NodeHostService, default_options
from labs.nodehost.supervisor import supervise, worker_command


class Command(BaseCommand):
    help = "Host every mock PACS node (one process, one DICOM server per node), reconciled to the database."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--worker", action="store_true", help="Run the host itself (no supervisor).")
        parser.add_argument("--host-id", default="", help="This host's id (default NODE_HOST_ID or host name).")
        parser.add_argument("--parent-pid", type=int, default=0, help="Stop when this supervisor process is gone.")

    def handle(self, *args: Any, **options: Any) -> None:
        logging.getLogger("labs").setLevel(logging.INFO)
        extra = ["--host-id", options["host_id"]] if options["host_id"] else []
        if not options["worker"]:
            raise SystemExit(supervise(worker_command(extra)))
        opts = default_options()
        if options["host_id"]:
            opts = replace(opts, host_id=options["host_id"])
        service = NodeHostService(replace(opts, parent_pid=options["parent_pid"] or None))

        def on_signal(signum: int, frame: FrameType | None) -> None:
            service.request_stop()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        self.stdout.write(f"node host {opts.host_id} (pid {os.getpid()}) listening on {opts.bind}")
        service.run()

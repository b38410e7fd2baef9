"""Run web, Celery worker (with beat) and the node host together, with prefixed logs; Ctrl-C stops them all."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from honcho.manager import Manager

from trainer.core.services.launcher import PortTakenError, check_ports, plan_processes


class Command(BaseCommand):
    help = "Start the whole platform (web, worker, node host) in the foreground."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-beat", action="store_true", help="Do not run the periodic scheduler.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            check_ports(host=options["host"], port=options["port"])
        except PortTakenError as exc:
            raise CommandError(str(exc)) from exc
        manager = Manager()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for proc in plan_processes(host=options["host"], port=options["port"], beat=not options["no_beat"]):
            manager.add_process(proc.name, proc.command, env=env, cwd=str(settings.BASE_DIR))
        self.stdout.write(
            self.style.SUCCESS(f"PACS Trainer: http://{options['host']}:{options['port']}/  (Ctrl-C stops everything)")
        )
        manager.loop()
        sys.exit(manager.returncode or 0)

"""The README's first command: set up the database, load demo content and run the whole platform."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Migrate, load demo content and start web, worker and node host (embedded defaults)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write("[quickstart] migrating the database")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("[quickstart] loading demo content")
        call_command("demo_content")
        launch_args = ["--port", str(options["port"])] if options["port"] else []
        call_command("launch", *launch_args)

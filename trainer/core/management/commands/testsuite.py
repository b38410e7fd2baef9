"""The README's second command: install and start what the tests need, then run the whole suite."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/pacs_trainer"
TEST_REDIS_URL = "redis://127.0.0.1:6379/9"


class Command(BaseCommand):
    help = "Set up PostgreSQL, Redis and system tools if needed, then run pytest against them."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("pytest_args", nargs="*", help="Extra arguments for pytest (after --).")
        parser.add_argument("--no-services", action="store_true", help="Skip installing/starting services.")

    def handle(self, *args: Any, **options: Any) -> None:
        root = settings.BASE_DIR
        if not options["no_services"]:
            subprocess.run(["bash", str(root / ".ci" / "services.sh")], check=True)
        env = {**os.environ}
        env.setdefault("DATABASE_URL", TEST_DATABASE_URL)
        env.setdefault("REDIS_URL", TEST_REDIS_URL)
        self.stdout.write(f"[testsuite] database {env['DATABASE_URL']}  broker {env['REDIS_URL']}")
        result = subprocess.run([sys.executable, "-m", "pytest", *options["pytest_args"]], env=env, cwd=root)
        sys.exit(result.returncode)

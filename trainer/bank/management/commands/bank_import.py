from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from trainer.bank.formats import FORMATS
from trainer.bank.schema import ImportFailed
from trainer.bank.services import bank_import_data


class Command(BaseCommand):
    help = "Import items from a file. Validates everything first; imports all or nothing; re-import is idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--format", dest="fmt", choices=sorted(FORMATS), default="native")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        try:
            report = bank_import_data(data=data, fmt=options["fmt"], dry_run=options["dry_run"])
        except ImportFailed as exc:
            for problem in exc.problems:
                self.stderr.write(f"{path}: {problem}")
            raise CommandError(f"{len(exc.problems)} problem(s); nothing was imported") from exc
        self.stdout.write(report.summary())

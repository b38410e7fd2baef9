from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from trainer.bank.linter import lint_bank
from trainer.bank.schema import ImportFailed
from trainer.bank.selectors import blueprint_specs, items_as_schema, items_for_export
from trainer.bank.services import blueprints_read, bundled_bank_items


class Command(BaseCommand):
    help = "Lint the bank (the database, or with --bundled the files under fixtures/bank). Exit 1 on errors."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--bundled", action="store_true", help="Lint fixtures/bank instead of the database.")
        parser.add_argument("--dir", type=Path, help="Lint the native files under this directory.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["bundled"] or options["dir"]:
            try:
                items = bundled_bank_items(directory=options["dir"])
            except ImportFailed as exc:
                for problem in exc.problems:
                    self.stderr.write(str(problem))
                raise CommandError(f"{len(exc.problems)} problem(s) reading the bank") from exc
            specs = [(bp["code"], bp["track"], bp["domains"]) for bp in blueprints_read()]
        else:
            items = items_as_schema(items_for_export())
            specs = blueprint_specs()
        report = lint_bank(items, specs)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            for f in report.findings:
                self.stdout.write(f"{f.severity:7} {f.rule:22} {f.item:16} {f.message}")
            positions = " ".join(f"{k}={v:.0%}" for k, v in report.key_positions.items())
            self.stdout.write(
                f"{report.items} items, {len(report.errors)} errors, {len(report.warnings)} warnings; "
                f"key positions {positions}; key longest in {report.key_longest_share:.0%}"
            )
        if report.errors:
            raise CommandError(f"{len(report.errors)} lint error(s)")

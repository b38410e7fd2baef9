from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from trainer.bank.formats import FORMATS, get_format
from trainer.bank.selectors import items_as_schema, items_for_export


class Command(BaseCommand):
    help = "Export the bank (current version of every item) to a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", dest="fmt", choices=sorted(FORMATS), default="native")
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--status", action="append", help="Only items with this status (repeatable).")

    def handle(self, *args: Any, **options: Any) -> None:
        qs = items_for_export()
        if options["status"]:
            qs = qs.filter(status__in=options["status"])
        items = items_as_schema(qs)
        written = get_format(options["fmt"]).write(items)
        options["out"].write_bytes(written.data)
        for problem in written.skipped:
            self.stderr.write(f"skipped: {problem}")
        for problem in written.warnings:
            self.stderr.write(f"warning: {problem}")
        exported = len(items) - len(written.skipped)
        skipped = f" ({len(written.skipped)} skipped: the format cannot hold them)" if written.skipped else ""
        self.stdout.write(f"exported {exported} items to {options['out']}{skipped}")

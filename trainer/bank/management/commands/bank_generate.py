from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from trainer.bank.generator import FAMILIES, GeneratorError
from trainer.bank.models import ItemStatus
from trainer.bank.schema import ImportFailed
from trainer.bank.services import bank_generate


class Command(BaseCommand):
    help = (
        "Generate items from the DICOM data dictionary and UID registry pydicom ships, and import them. "
        "Deterministic for a seed; never overwrites an authored item."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True, help="How many items (spread over the families).")
        parser.add_argument("--seed", type=int, required=True, help="Picks the subjects; same seed, same items.")
        parser.add_argument(
            "--family", action="append", choices=sorted(FAMILIES), help="Only this family (repeatable)."
        )
        parser.add_argument("--status", choices=ItemStatus.values, default=ItemStatus.PUBLISHED)
        parser.add_argument("--dry-run", action="store_true", help="Generate and validate; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            items, report = bank_generate(
                count=options["count"],
                seed=options["seed"],
                families=options["family"],
                status=options["status"],
                dry_run=options["dry_run"],
            )
        except GeneratorError as exc:
            raise CommandError(str(exc)) from exc
        except ImportFailed as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(exc.problems)} problem(s); nothing was imported") from exc
        if len(items) < options["count"]:
            self.stderr.write(f"only {len(items)} items could be generated for these families")
        self.stdout.write(f"generated {len(items)} items; {report.summary()}")

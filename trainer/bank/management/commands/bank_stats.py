from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from trainer.bank.selectors import bank_stats


class Command(BaseCommand):
    help = "Counts per track, domain, type, level and status."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        stats = bank_stats()
        if options["json"]:
            self.stdout.write(json.dumps(stats, indent=2))
            return
        for key, value in stats.items():
            self.stdout.write(f"{key}: {value}")

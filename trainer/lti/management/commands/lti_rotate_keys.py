from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from trainer.lti.services import tool_key_retire, tool_key_rotate


class Command(BaseCommand):
    help = (
        "Rotate the LTI tool's signing key: a new key signs from now on; older keys stay in the JWKS until they "
        "have been superseded for --retire-after-days, then they are retired. --retire-only just retires."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--retire-after-days", type=float, default=7.0)
        parser.add_argument("--retire-only", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        grace = timedelta(days=options["retire_after_days"])
        if options["retire_only"]:
            retired = tool_key_retire(retire_after=grace)
        else:
            key, retired = tool_key_rotate(retire_after=grace)
            self.stdout.write(self.style.SUCCESS(f"New signing key {key}."))
        for kid in retired:
            self.stdout.write(f"Retired key {kid}.")

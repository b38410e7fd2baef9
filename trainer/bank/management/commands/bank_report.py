from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from trainer.bank.linter import lint_bank
from trainer.bank.reporting import content_report
from trainer.bank.services import FIXTURES, blueprints_read, bundled_bank_items


class Command(BaseCommand):
    help = "Write docs/CONTENT.md from the bundled bank (counts, linter summary, how items are written)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, default=settings.BASE_DIR / "docs" / "CONTENT.md")

    def handle(self, *args: Any, **options: Any) -> None:
        items = bundled_bank_items()
        lint = lint_bank(items, [(bp["code"], bp["track"], bp["domains"]) for bp in blueprints_read()])
        doc = yaml.safe_load((FIXTURES / "tracks.yaml").read_text())
        tracks = {t["code"]: [(d["code"], d["name"]) for d in t["domains"]] for t in doc["tracks"]}
        options["out"].write_text(content_report(items, lint, tracks) + "\n", encoding="utf-8")
        self.stdout.write(f"wrote {options['out']}")

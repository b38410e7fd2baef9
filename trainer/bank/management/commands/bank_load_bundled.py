"""``manage.py bank_load_bundled``: the exam tracks, blueprints and bundled question bank on a new site."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from trainer.bank.schema import ImportFailed
from trainer.bank.services import bank_load_bundled


class Command(BaseCommand):
    help = (
        "Load or refresh the exam tracks and domains, the blueprints and the bundled question bank from fixtures/ "
        "(allowed in production; running it again changes only what the fixtures changed)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self.stdout.write(bank_load_bundled())
        except ImportFailed as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"the bundled bank has {len(exc.problems)} problem(s); no item was imported") from exc

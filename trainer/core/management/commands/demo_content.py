from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from trainer.bank.schema import ImportFailed
from trainer.core.services.demo import DEMO_ACCOUNTS, demo_content_load


class Command(BaseCommand):
    help = "Create the demo accounts and demo content (never in production mode)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = demo_content_load()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        except ImportFailed as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"the bundled question bank has {len(exc.problems)} problem(s); nothing was loaded"
            ) from exc
        for line in report:
            self.stdout.write(f"  {line}")
        for account in DEMO_ACCOUNTS:
            self.stdout.write(f"  sign in as {account.username} / {account.password} ({account.role.label})")

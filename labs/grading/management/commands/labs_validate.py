from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from labs.scenarios.loader import LabFileError, labs_dir, load_labs


class Command(BaseCommand):
    help = "Validate the lab files (fixtures/labs/*.yaml); errors name the file and the place."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", default=None, help="Directory of lab files (default: fixtures/labs).")

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(options["dir"]) if options["dir"] else labs_dir()
        try:
            labs = load_labs(directory)
        except LabFileError as exc:
            raise CommandError(str(exc)) from exc
        for lab in labs.values():
            self.stdout.write(f"{lab.slug}: {len(lab.tasks)} task(s), {lab.total_points} point(s)")
        self.stdout.write(self.style.SUCCESS(f"{len(labs)} lab(s) valid"))

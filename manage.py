#!/usr/bin/env python3
"""Django's command-line utility for PACS Trainer; sets up .venv on first use (see trainer/bootstrap.py)."""

import importlib.util
import os
import sys
from pathlib import Path


def main() -> None:
    spec = importlib.util.spec_from_file_location("_bootstrap", Path(__file__).parent / "trainer" / "bootstrap.py")
    assert spec and spec.loader
    bootstrap = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bootstrap)
    bootstrap.ensure_environment(sys.argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trainer.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

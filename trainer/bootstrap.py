"""Self-setup for ``python3 manage.py …`` on a fresh clone (standard library only).

``manage.py`` loads this file by path, before Django can be imported. When the interpreter running it is not
already a usable environment, it creates ``.venv`` beside ``manage.py``, installs the project (with the ``dev``
extra for test commands) and re-executes the same command inside it. A stamp file keyed on ``pyproject.toml``
makes the next run instant.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
DEV_COMMANDS = {"testsuite", "test"}
MIN_PYTHON = (3, 11)


def _venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _in_project_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def _has_django() -> bool:
    try:
        import django  # noqa: F401
    except ImportError:
        return False
    return True


def _wanted_stamp(extras: str) -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    return f"{digest}:{extras}"


def _install(extras: str) -> None:
    stamp = VENV / ".pacs-trainer-installed"
    wanted = _wanted_stamp(extras)
    have = stamp.read_text().split() if stamp.exists() else []
    # A dev install also satisfies a runtime command.
    if wanted in have or (extras == "" and _wanted_stamp("dev") in have):
        return
    spec = f".[{extras}]" if extras else "."
    print(f"[setup] installing the platform into {VENV} ({spec}); this happens once", flush=True)
    python = str(_venv_python())
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True, cwd=ROOT)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "-e", spec], check=True, cwd=ROOT)
    stamp.write_text(" ".join([*have, wanted]))


def ensure_environment(argv: list[str]) -> None:
    """Make sure Django and the project's dependencies are importable, re-executing into ``.venv`` if needed."""
    if sys.version_info < MIN_PYTHON:
        sys.exit(
            f"PACS Trainer needs Python {'.'.join(map(str, MIN_PYTHON))} or newer; this is {sys.version.split()[0]}."
        )
    command = argv[1] if len(argv) > 1 else ""
    extras = "dev" if command in DEV_COMMANDS else ""
    if _in_project_venv():
        _install(extras)
        return
    if os.environ.get("VIRTUAL_ENV") and _has_django():
        return  # a developer's own environment: leave it alone
    if not _venv_python().exists():
        print(f"[setup] creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    _install(extras)
    python = str(_venv_python())
    os.execv(python, [python, *argv])  # noqa: S606 - re-run the same command inside the project environment

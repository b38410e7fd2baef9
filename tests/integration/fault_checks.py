"""Test-only grading checks, imported by the test process and by a real Celery worker (``--include``).

``test_gate`` blocks until a file exists, so a test can hold a grading run in the middle of a check, kill the
worker there, and release the gate for the re-run. Every call appends a line to ``calls`` (if given), so a test
can also see how often the check really ran."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import yaml

from labs.grading.checks import CheckContext, Outcome, check


@check("test_gate")
def test_gate(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    if params.get("calls"):
        with Path(params["calls"]).open("a") as calls:
            calls.write(f"{os.getpid()}\n")
    if params.get("started"):
        Path(params["started"]).touch()
    release = Path(params["release"])
    deadline = time.monotonic() + float(params.get("timeout", 90))
    while not release.exists():
        if time.monotonic() > deadline:
            return Outcome(False, "The gate was never opened.")
        time.sleep(0.05)
    return Outcome(True, "The gate opened.")


def write_gate_lab(directory: Path, *, slug: str, gates: list[dict[str, Any]]) -> None:
    """A lab whose checks are gates (one task per gate), written as ``<slug>.yaml`` into ``directory``."""
    lab = {
        "slug": slug,
        "title": "Fault lab",
        "tracks": ["pacs-admin"],
        "objectives": ["Survive a fault"],
        "instructions": "Nothing to do.",
        "node": {"ae_title": "FAULT_PACS"},
        "tasks": [
            {"key": f"gate{i}", "title": f"Gate {i}", "checks": [{"check": "test_gate", "params": g, "points": 1}]}
            for i, g in enumerate(gates, start=1)
        ],
    }
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{slug}.yaml").write_text(yaml.safe_dump(lab), encoding="utf-8")

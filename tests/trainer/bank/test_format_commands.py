"""bank_import / bank_export with --format and --dry-run, through the real commands."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.trainer.bank.format_samples import SAMPLES, qti_package
from trainer.bank.models import Item

pytestmark = pytest.mark.django_db


def _run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("fmt", "name", "count"),
    [("csv", "sample.csv", 6), ("gift", "edge-cases.gift", 14), ("moodle", "moodle-types.xml", 6)],
)
def test_import_with_format_dry_run_then_for_real(tracks, fmt, name, count):
    path = str(SAMPLES / name)
    out, _ = _run("bank_import", path, "--format", fmt, "--dry-run")
    assert out.strip() == f"would import {count} items: {count} new, 0 changed (0 as new versions), 0 unchanged"
    assert not Item.objects.exists()
    out, _ = _run("bank_import", path, "--format", fmt)
    assert out.strip() == f"imported {count} items: {count} new, 0 changed (0 as new versions), 0 unchanged"
    out, _ = _run("bank_import", path, "--format", fmt)
    assert out.strip().endswith(f"0 new, 0 changed (0 as new versions), {count} unchanged")
    assert Item.objects.count() == count


def test_a_qti_package_imports_by_path(tracks, tmp_path):
    path = tmp_path / "package.zip"
    path.write_bytes(qti_package())
    out, _ = _run("bank_import", str(path), "--format", "qti")
    assert out.strip().startswith("imported 6 items: 6 new")


def test_a_broken_file_imports_nothing_and_names_every_place(tracks):
    path = SAMPLES / "broken.gift"
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"10 problem\(s\); nothing was imported"):
        call_command("bank_import", str(path), "--format", "gift", stderr=err)
    lines = err.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[0] == f"{path}: line 3: question short: short-answer items are not supported"
    assert not Item.objects.exists()


def test_an_unknown_domain_fails_the_whole_file(tracks, tmp_path):
    path = tmp_path / "bank.gift"
    path.write_text("$CATEGORY: $course$/top/CIIP/plumbing\n\n::a1:: A{T}\n\n::a2:: B{F}\n")
    with pytest.raises(CommandError):
        call_command("bank_import", str(path), "--format", "gift", stderr=io.StringIO())
    assert not Item.objects.exists()


@pytest.mark.parametrize("fmt", ["csv", "gift", "moodle", "qti"])
def test_export_then_import_with_each_format(tracks, tmp_path, fmt):
    _run("bank_import", str(SAMPLES / "all-types.yaml"))
    out_path = tmp_path / f"bank.{fmt}"
    out, err = _run("bank_export", "--format", fmt, "--out", str(out_path))
    if fmt == "gift":
        assert out.strip() == f"exported 7 items to {out_path} (1 skipped: the format cannot hold them)"
        assert err.strip().startswith("skipped: item rt-ordering-001 not exported: ordering items have no GIFT")
    else:
        assert out.strip() == f"exported 8 items to {out_path}"
    out, _ = _run("bank_import", str(out_path), "--format", fmt)
    unchanged = 7 if fmt == "gift" else 8
    assert out.strip().endswith(f"0 new, 0 changed (0 as new versions), {unchanged} unchanged")

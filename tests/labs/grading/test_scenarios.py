"""Lab files with errors are rejected with messages naming the file and the place."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from labs.scenarios.loader import LabFileError, load_labs, parse_lab

GOOD = """
slug: demo
title: Demo
tracks: [pacs-admin]
objectives: [Echo]
instructions: Do it.
tasks:
  - key: t
    title: T
    checks:
      - check: echo_succeeded_from
        params: {calling_ae: X}
"""


def test_the_shipped_labs_validate():
    call_command("labs_validate")


def test_each_shipped_lab_page_suggests_the_calling_ae_its_solution_uses():
    """The lab page's example commands call as ``learner_ae``; a learner who copies them must be the device the
    checks look for (a page saying LEARNER_SCU when the check wants US_ROOM_2 costs the learner the points)."""
    for slug, lab in load_labs().items():
        assert lab.reference_solution is not None, slug
        for step in lab.reference_solution.steps:
            if step.run and "-aet" in step.run:
                assert step.run[step.run.index("-aet") + 1] == lab.learner_ae, f"{slug}: {' '.join(step.run)}"


def test_each_shipped_lab_page_proposes_the_transfer_syntax_its_study_files_are_in():
    """The page's storescu line for a study carries the option the reference solution needs to send it."""
    checked = 0
    for slug, lab in load_labs().items():
        studies = {s.key: s for s in lab.studies}
        assert lab.reference_solution is not None, slug
        for step in lab.reference_solution.steps:
            if not step.run or step.run[0] != "storescu":
                continue
            folders = [a[len("{study_dir:") : -1] for a in step.run if a.startswith("{study_dir:")]
            for key in folders:
                proposals = [a for a in step.run if a.startswith("-x")]
                assert proposals == ([studies[key].storescu_option] if studies[key].storescu_option else []), (
                    f"{slug}: {' '.join(step.run)}"
                )
                checked += 1
    assert checked >= 5


def test_a_study_a_simulated_device_holds_is_not_one_the_learner_sends():
    lab = parse_lab(
        GOOD
        + """studies:
  - {key: mine}
  - {key: theirs}
  - {key: ready, preload: true}
peers:
  - {key: ct, role: modality, ae_title: CT_1, studies: [theirs]}
"""
    )
    assert lab.learner_ae == "LEARNER_SCU"
    assert [s.key for s in lab.studies_to_send] == ["mine"]


def test_a_good_file_parses():
    lab = parse_lab(GOOD)
    assert lab.slug == "demo" and lab.total_points == 1


@pytest.mark.parametrize(
    ("change", "place", "words"),
    [
        (("check: echo_succeeded_from", "check: echo_worked"), "tasks.0.checks.0", "unknown check 'echo_worked'"),
        (("title: Demo", "title: Demo\nnode: {ae_title: WAY_TOO_LONG_AE_TITLE}"), "node.ae_title", "AE title"),
        (("slug: demo", "slug: Demo Lab"), "slug", "not a slug"),
        (("        params: {calling_ae: X}", "        points: -1"), "tasks.0.checks.0.points", "greater than"),
        (("tracks: [pacs-admin]", "tracks: [pacs-admin]\ncolour: red"), "colour", "Extra inputs"),
        (("        params: {calling_ae: X}", "        params: {study: nope}"), "tasks.0.checks.0", "'nope'"),
    ],
)
def test_errors_name_the_place(change, place, words):
    with pytest.raises(LabFileError) as info:
        parse_lab(GOOD.replace(*change), source="demo.yaml")
    message = str(info.value)
    assert f"demo.yaml: {place}" in message, message
    assert words in message


def test_missing_fields_are_listed():
    with pytest.raises(LabFileError) as info:
        parse_lab("slug: demo\ntitle: Demo\n", source="x.yaml")
    for field in ("tracks", "objectives", "instructions", "tasks"):
        assert f"x.yaml: {field}: Field required" in str(info.value)


def test_the_command_rejects_a_bad_directory_naming_file_and_place(tmp_path: Path):
    (tmp_path / "demo.yaml").write_text(GOOD.replace("check: echo_succeeded_from", "check: nope"))
    (tmp_path / "other.yaml").write_text(GOOD)  # slug 'demo' does not match the file name
    with pytest.raises(CommandError) as info:
        call_command("labs_validate", dir=str(tmp_path))
    assert "demo.yaml: tasks.0.checks.0" in str(info.value)
    assert "other.yaml: slug: 'demo' must match the file name 'other'" in str(info.value)
    with pytest.raises(LabFileError):
        load_labs(tmp_path)

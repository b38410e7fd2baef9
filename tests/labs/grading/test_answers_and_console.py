"""Answer tasks on the lab page, the console's study deletion and patient merge, the lab format's new fields, and
the node's choice of the requester's first transfer syntax."""

from __future__ import annotations

import pytest
from pydicom import dcmread
from pynetdicom.presentation import build_context

from labs.dicom import catalog, synthetic
from labs.dicom.server import build_contexts, prefer_requested
from labs.dicom.storage import index_file
from labs.grading.models import LabAttempt
from labs.nodes import services as node_services
from labs.nodes.models import StoredInstance
from labs.nodes.selectors import instance_path, node_storage_dir
from labs.scenarios.loader import LabFileError, parse_lab
from tests.conftest import signed_in

RLE = "1.2.840.10008.1.2.5"


def test_an_answer_is_kept_on_the_learners_attempt_and_shown_back(learner, other_learner):
    client = signed_in(learner)
    client.post("/labs/find-the-priors/start/")
    attempt = LabAttempt.objects.get(learner=learner)
    page = client.get("/labs/find-the-priors/").content.decode()
    assert "List the Study Date (YYYYMMDD) of every study" in page and "Save my answer" in page
    response = client.post(f"/labs/attempts/{attempt.pk}/answers/priors/", {"answer": " 20250301,   20240115 "})
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert attempt.answers == {"priors": "20250301, 20240115"}
    assert 'value="20250301, 20240115"' in client.get("/labs/find-the-priors/").content.decode()
    stranger = signed_in(other_learner)
    assert stranger.post(f"/labs/attempts/{attempt.pk}/answers/priors/", {"answer": "x"}).status_code == 404
    attempt.refresh_from_db()
    assert attempt.answers == {"priors": "20250301, 20240115"}


def test_an_empty_answer_or_a_task_without_question_is_refused_with_a_message(learner):
    client = signed_in(learner)
    client.post("/labs/find-the-priors/start/")
    attempt = LabAttempt.objects.get(learner=learner)
    empty = client.post(f"/labs/attempts/{attempt.pk}/answers/priors/", {"answer": "  "}, follow=True)
    assert "Type an answer first." in empty.content.decode()
    other = client.post(f"/labs/attempts/{attempt.pk}/answers/query/", {"answer": "3"}, follow=True)
    assert "That task does not ask a question." in other.content.decode()
    attempt.refresh_from_db()
    assert attempt.answers == {}


def _preload(node, **kwargs) -> list[str]:
    """Put a study in the node's store and index it (as the host does when it starts the node)."""
    datasets = synthetic.study(**kwargs)
    paths = synthetic.write_into_store(datasets, node_storage_dir(node.pk))
    rows = [index_file(p, node_id=node.pk) for p in paths]
    node_services.instances_upsert(rows=[r for r in rows if r is not None])
    return [str(ds.SOPInstanceUID) for ds in datasets]


def test_merging_a_patient_rewrites_the_files_and_the_index_and_keeps_the_old_id(learner, node_settings):
    node = node_services.node_create(owner=learner, start=False)
    _preload(node, seed=1, series=1, images=1, size=8, patient_id="PT-1", patient_name="DOE^JANE")
    moved = _preload(node, seed=2, series=1, images=2, size=8, patient_id="EXT-9", patient_name="DOE^J")
    client = signed_in(learner)
    form = {"from_patient_id": "EXT-9", "to_patient_id": "PT-1", "to_patient_name": ""}
    page = client.post(f"/nodes/{node.pk}/patients/merge/", form, follow=True).content.decode()
    assert "2 stored objects now belong to the surviving patient." in page
    for row in StoredInstance.objects.filter(node=node, sop_instance_uid__in=moved):
        ds = dcmread(instance_path(row))
        assert (ds.PatientID, str(ds.PatientName)) == ("PT-1", "DOE^JANE")
        assert ds.OtherPatientIDsSequence[0].PatientID == "EXT-9"
        assert (row.patient_id, row.patient_name, row.attrs["PatientID"]) == ("PT-1", "DOE^JANE", "PT-1")
    assert not StoredInstance.objects.filter(node=node, patient_id="EXT-9").exists()


def test_a_merge_of_an_id_into_itself_or_of_an_unknown_id_changes_nothing(learner, node_settings):
    node = node_services.node_create(owner=learner, start=False)
    _preload(node, seed=1, series=1, images=1, size=8, patient_id="PT-1")
    with pytest.raises(node_services.NodeError, match="the same"):
        node_services.patient_merge(node=node, from_patient_id="PT-1", to_patient_id="PT-1")
    with pytest.raises(node_services.NodeError, match="No study is stored under Patient ID 'NOPE'"):
        node_services.patient_merge(node=node, from_patient_id="NOPE", to_patient_id="PT-1")
    assert list(StoredInstance.objects.filter(node=node).values_list("patient_id", flat=True)) == ["PT-1"]


def test_deleting_a_study_removes_its_files_and_rows_only(learner, node_settings):
    node = node_services.node_create(owner=learner, start=False)
    kept = _preload(node, seed=1, series=1, images=1, size=8)
    gone = _preload(node, seed=2, series=1, images=2, size=8)
    study_uid = StoredInstance.objects.get(sop_instance_uid=gone[0]).study_instance_uid
    paths = [instance_path(r) for r in StoredInstance.objects.filter(sop_instance_uid__in=gone)]
    revision = node.revision
    client = signed_in(learner)
    page = client.post(f"/nodes/{node.pk}/studies/{study_uid}/delete/", follow=True).content.decode()
    assert "Study deleted (2 instances)" in page
    assert not any(p.exists() for p in paths)
    assert list(StoredInstance.objects.filter(node=node).values_list("sop_instance_uid", flat=True)) == kept
    node.refresh_from_db()
    assert node.revision > revision  # the host re-reads the usage with the new revision


def test_the_node_takes_the_requesters_first_transfer_syntax_when_it_is_compressed():
    node_contexts = build_contexts(_config())
    get_style = build_context(catalog.STUDY_ROOT_GET)
    storage = build_context("1.2.840.10008.5.1.4.1.1.2", [RLE, *catalog.UNCOMPRESSED])
    preferred = prefer_requested(node_contexts, [get_style, storage])
    assert preferred is not None
    ct = next(cx for cx in preferred if cx.abstract_syntax == "1.2.840.10008.5.1.4.1.1.2")
    assert ct.transfer_syntax[0] == RLE and ct.scp_role and ct.scu_role
    uncompressed_first = build_context("1.2.840.10008.5.1.4.1.1.2", [*catalog.UNCOMPRESSED, RLE])
    assert prefer_requested(node_contexts, [uncompressed_first]) is None  # the shared list is used as it is


def _config():
    from pathlib import Path

    from labs.dicom.runtime import NodeConfig

    return NodeConfig(
        node_id=1,
        ae_title="X",
        port=1,
        storage_dir=Path("/nonexistent"),
        transfer_syntaxes=tuple(catalog.DEFAULT_TRANSFER_SYNTAXES),
    )


LAB = """
slug: demo
title: Demo
tracks: [pacs-admin]
objectives: [Answer]
instructions: Do it.
tasks:
  - key: q
    title: Q
    question: How many?
    checks:
      - check: answer_matches_find
        params: {task: q, attribute: StudyDate}
reference_solution:
  steps:
    - answer: {task: nope, text: "1"}
"""


def test_a_solution_answering_an_unknown_task_is_named_in_the_error():
    with pytest.raises(LabFileError, match=r"reference_solution.steps.0.answer: task 'nope'"):
        parse_lab(LAB, source="demo.yaml")


def test_a_check_asking_about_a_task_without_a_question_is_named_in_the_error():
    text = LAB.replace("    question: How many?\n", "").replace("task: nope", "task: q")
    with pytest.raises(LabFileError, match=r"tasks.0.checks.0: params.task 'q' is not a task with a question"):
        parse_lab(text, source="demo.yaml")


def test_a_study_in_jpeg_2000_needs_32_pixels():
    text = LAB.replace("tasks:", "studies:\n  - {key: s, size: 16, transfer_syntax: 1.2.840.10008.1.2.4.90}\ntasks:")
    with pytest.raises(LabFileError, match=r"studies\.0: JPEG 2000 needs images of at least 32"):
        parse_lab(text, source="demo.yaml")

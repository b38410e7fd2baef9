"""What the learner sees in the DCMTK output and in the evidence of the labs that need no simulated peer: the
symptom named in each lab's instructions appears, and the failing check quotes what happened."""

from __future__ import annotations

import pytest

from labs.grading.models import CheckResult, RunStatus
from labs.scenarios.loader import lab_catalogue
from labs.scenarios.schema import Solution
from tests.labs.grading.helpers import grade_now, play, start_lab

pytestmark = [pytest.mark.integration]


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    from labs.grading import tasks

    monkeypatch.setattr(tasks.grade, "delay", lambda run_id: None)


def _play(slug: str, steps: list[dict], learner, nodehost, tmp_path) -> tuple[list[str], dict]:
    lab = lab_catalogue()[slug]
    attempt = start_lab(learner, slug)
    solution = Solution.model_validate({"steps": steps})
    outputs = play(solution, lab=lab, attempt=attempt, workdir=tmp_path, nodehost=nodehost)
    run = grade_now(attempt)
    assert run.status == RunStatus.DONE
    return outputs, {r.name: r for r in run.results.order_by("-order")}  # the first check of a name wins


def _storescu(calling: str, folder: str, *options: str) -> list[dict]:
    """The steps of one ``storescu +sd`` as the learner types it."""
    return [{"run": ["storescu", *options, "-aet", calling, "-aec", "{ae}", "{host}", "{port}", "+sd", folder]}]


def test_a_stopped_listener_refuses_the_tcp_connection_and_nothing_is_logged(learner, nodehost, tmp_path):
    steps = [{"run": ["echoscu", "-aet", "READING_WS1", "-aec", "{ae}", "{host}", "{port}"]}]
    outputs, results = _play("listener-down", steps, learner, nodehost, tmp_path)
    assert "Connection refused" in outputs[0]
    assert "No C-ECHO from calling AE 'READING_WS1' reached the node" in results["echo_succeeded_from"].evidence


def test_an_unaccepted_sop_class_gives_no_presentation_context(learner, nodehost, tmp_path):
    steps = _storescu("US_ROOM_2", "{study_dir:us-cine}")
    outputs, results = _play("accept-ultrasound-multiframe", steps, learner, nodehost, tmp_path)
    assert "No presentation context for: (USm) 1.2.840.10008.5.1.4.1.1.3.1" in outputs[0]
    assert "do not include Ultrasound Multi Frame Image Storage" in results["sop_class_accepted"].evidence


def test_a_compressed_file_cannot_go_in_an_uncompressed_context(learner, nodehost, tmp_path):
    steps = _storescu("PARTNER_GW", "{study_dir:ct-j2k}", "-xv")
    outputs, results = _play("widen-transfer-syntaxes", steps, learner, nodehost, tmp_path)
    assert "unable to convert dataset from 'JPEG 2000 (Lossless only)' transfer syntax" in outputs[0]
    assert "do not include 1.2.840.10008.1.2.4.90" in results["transfer_syntax_accepted"].evidence


def test_a_full_archive_answers_out_of_resources(learner, nodehost, tmp_path):
    steps = _storescu("CT_SCANNER_1", "{study_dir:ct-today}", "-v")
    outputs, results = _play("archive-full-quota", steps, learner, nodehost, tmp_path)
    assert "Received Store Response (Refused: OutOfResources)" in outputs[0]
    assert results["dimse_status_seen"].passed and "0xA700" in results["dimse_status_seen"].evidence
    assert "2 of 4 instances" in results["study_stored"].evidence


def test_a_c_get_without_a_usable_storage_context_fails_every_sub_operation(learner, nodehost, tmp_path):
    getscu = ["getscu", "-S", "-aet", "VIEWER_WS", "-aec", "{ae}", "{host}", "{port}", "-od", "{dir:received}"]
    getscu += ["-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID={study_uid:archive-ct}"]
    outputs, results = _play("retrieve-with-c-get", [{"run": getscu}], learner, nodehost, tmp_path)
    assert "DIMSE status is: Refused: OutOfResourcesSubOperations" in outputs[0]
    assert not list((tmp_path / "received").iterdir())
    assert "0xA702 with 0 completed and 4 failed" in results["get_completed"].evidence


def test_a_de_identifier_that_does_not_flag_the_result_still_fails_the_profile_check(learner, nodehost, tmp_path):
    steps = [
        {"run": ["dicom-anonymizer", "{study_dir:trial-ct}", "{dir:research}"]},
        *_storescu("RESEARCH_GW", "{dir:research}"),
    ]
    _, results = _play("deidentify-for-research", steps, learner, nodehost, tmp_path)
    assert "Patient Identity Removed (0012,0062) is not YES" in results["study_deidentified"].evidence


def test_name_and_id_changes_leave_the_original_uids_on_the_research_archive(learner, nodehost, tmp_path):
    lab = lab_catalogue()["deidentify-for-research"]
    assert lab.wrong_solution
    attempt = start_lab(learner, lab.slug)
    play(lab.wrong_solution, lab=lab, attempt=attempt, workdir=tmp_path, nodehost=nodehost)
    deid = grade_now(attempt).results.get(name="study_deidentified")
    assert "4 instance(s) of the study are stored with their original SOP Instance UIDs" in deid.evidence


def test_a_merge_in_the_wrong_direction_is_shown_in_the_evidence(learner, nodehost, tmp_path):
    steps = [{"merge_patient": {"from_patient_id": "PT-1601", "to_patient_id": "EXT-5531"}}]
    _, results = _play("reconcile-patient-ids", steps, learner, nodehost, tmp_path)
    assert "still filed under Patient ID 'EXT-5531', not 'PT-1601'" in results["patient_reconciled"].evidence
    assert "returns 0 StudyInstanceUID value(s); 2 expected" in results["find_returns"].evidence


def test_an_unanswered_question_fails_and_a_namesake_is_counted_as_wrong(learner, nodehost, tmp_path):
    steps = [{"answer": {"task": "priors", "text": "20250301"}}]
    _, results = _play("find-the-priors", steps, learner, nodehost, tmp_path)
    assert "gives 1 value(s), 0 of them not returned by the right query, and misses 2" in (
        results["answer_matches_find"].evidence
    )


def test_the_right_study_from_the_wrong_calling_ae_gets_a_hint_about_the_ae_not_missing_images(
    learner, nodehost, tmp_path
):
    """The author's hint for study_stored is about missing images; when every image is there but came from
    another calling AE, the learner is told that instead."""
    _, results = _play("store-a-study", _storescu("STORESCU", "{study_dir:ct-chest}"), learner, nodehost, tmp_path)
    stored = results["study_stored"]
    assert not stored.passed
    assert "sent by ['STORESCU'], not 'LEARNER_SCU'" in stored.evidence
    assert "calling as 'LEARNER_SCU'" in stored.hint and "missing" not in stored.hint


def test_transfer_syntax_evidence_names_a_sop_class_the_sender_actually_sent(learner, nodehost, tmp_path):
    configure = {"configure": {"transfer_syntaxes": ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2.5"]}}
    steps = [configure, *_storescu("PARTNER_GW", "{study_dir:mr-rle}", "-xr")]
    _play("widen-transfer-syntaxes", steps, learner, nodehost, tmp_path)
    (rle,) = CheckResult.objects.filter(name="transfer_syntax_accepted", passed=True)
    evidence = rle.evidence
    assert "(MR Image Storage, 1.2.840.10008.5.1.4.1.1.4)" in evidence
    assert "RLE Lossless (1.2.840.10008.1.2.5)" in evidence


def test_dates_answered_as_yyyy_mm_dd_count_as_the_dicom_dates(learner, nodehost, tmp_path):
    find = ["findscu", "-S", "-aet", "VIEWER_WS", "-aec", "{ae}", "{host}", "{port}", "-k", "QueryRetrieveLevel=STUDY"]
    steps: list[dict] = [
        {"run": [*find, "-k", "PatientID=PT-1801", "-k", "StudyDate"]},
        {"answer": {"task": "priors", "text": "2025-03-01, 2024-01-15, 2023-06-20"}},
    ]
    _, results = _play("find-the-priors", steps, learner, nodehost, tmp_path)
    assert results["answer_matches_find"].passed, results["answer_matches_find"].evidence

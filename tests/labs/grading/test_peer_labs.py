"""What a learner sees along the way in the labs with simulated peers: the symptoms the instructions promise
appear in the real DCMTK output and in the logs, and the evidence names the cause."""

from __future__ import annotations

import pytest

from labs.grading.models import RunStatus
from labs.nodes.models import AssociationLog
from labs.scenarios.loader import LabFileError, lab_catalogue, parse_lab
from labs.scenarios.schema import Solution
from tests.conftest import signed_in
from tests.labs.grading.helpers import grade_now, play, start_lab

pytestmark = [pytest.mark.integration]


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    from labs.grading import tasks

    monkeypatch.setattr(tasks.grade, "delay", lambda run_id: None)


def _play_first(slug: str, count: int, *, learner, nodehost, tmp_path):
    lab = lab_catalogue()[slug]
    attempt = start_lab(learner, slug)
    assert lab.reference_solution
    steps = Solution(steps=lab.reference_solution.steps[:count])
    return attempt, play(steps, lab=lab, attempt=attempt, workdir=tmp_path, nodehost=nodehost)


def test_move_to_an_unknown_then_an_unreachable_destination(learner, nodehost, tmp_path):
    attempt, outputs = _play_first("move-to-workstations", 4, learner=learner, nodehost=nodehost, tmp_path=tmp_path)
    assert "Refused: MoveDestinationUnknown" in outputs[0], outputs[0]
    assert "Success" in outputs[1]
    out = AssociationLog.objects.filter(node=attempt.node, direction="out", called_ae="WS_3DLAB").first()
    assert out is not None and out.outcome == "failed" and "104" in (out.detail + out.explanation)
    run = grade_now(attempt)
    results = {(r.task_key, r.name): r for r in run.results.all()}
    assert results[("reading-room", "peer_received_study")].passed
    failed = results[("3d-lab", "peer_received_study")]
    assert not failed.passed and "WS_3DLAB: 0 of 3 instances" in failed.evidence


def test_garbled_name_is_shown_by_findscu_and_quoted_in_the_evidence(learner, nodehost, tmp_path):
    attempt, outputs = _play_first("garbled-patient-names", 2, learner=learner, nodehost=nodehost, tmp_path=tmp_path)
    assert "PatientName" in outputs[0] and "[MÃ" in outputs[0], outputs[0]  # what the PACS made of the bytes
    page = signed_in(learner).get(f"/labs/attempts/{attempt.pk}/peers/mr/").content.decode()
    assert "Specific Character Set it declares" in page and '<option value="ISO_IR 100" selected>' in page
    result = grade_now(attempt).results.get(name="patient_name_decodes")
    assert not result.passed and "'MÃ\x9cLLER^JÃ\x9cRGEN' instead of 'MÜLLER^JÜRGEN'" in result.evidence


def test_resent_corrected_images_are_answered_success_but_not_kept(learner, nodehost, tmp_path):
    attempt, outputs = _play_first(
        "corrected-images-same-uids", 3, learner=learner, nodehost=nodehost, tmp_path=tmp_path
    )
    ct = attempt.peers.get(key="ct")
    assert "3 stored" in ct.settings["last_send"]  # the CT believes it worked
    assert "CORRECTED" not in outputs[0] and "Series 1" in outputs[0]
    run = grade_now(attempt)
    assert run.results.get(name="study_stored").passed
    corrected = run.results.get(name="corrected_images_stored")
    assert not corrected.passed and "0 of 3 corrected image(s)" in corrected.evidence


def test_worklist_query_as_the_ct_is_empty_until_the_entry_is_fixed(learner, nodehost, tmp_path):
    attempt, outputs = _play_first("empty-worklist", 2, learner=learner, nodehost=nodehost, tmp_path=tmp_path)
    assert "Find Response: 1" not in outputs[0] and "Received Final Find Response (Success)" in outputs[0]
    assert "CT_ROOM_4" in outputs[1] and "[MR]" in outputs[1], outputs[1]
    probe = grade_now(attempt).results.get(name="worklist_probe")
    assert not probe.passed and "returned 0 entr(ies)" in probe.evidence


def test_commitment_result_to_an_unregistered_modality_is_refused_in_the_log(learner, nodehost, tmp_path):
    attempt, _ = _play_first("storage-commitment", 2, learner=learner, nodehost=nodehost, tmp_path=tmp_path)
    ct = attempt.peers.get(key="ct")
    assert "answered 0x0000" in ct.settings["last_commit"]  # N-ACTION: request received, nothing more
    refused = AssociationLog.objects.get(node=attempt.node, direction="out", called_ae="CT_ROOM5")
    assert refused.outcome == "refused" and "not a known AE" in refused.detail
    run = grade_now(attempt)
    assert run.status == RunStatus.DONE
    assert not run.results.get(name="commitment_confirmed").passed


def test_peer_mistakes_in_a_lab_file_are_reported_with_their_place():
    text = """
slug: bad-peers
title: Bad
tracks: [pacs-admin]
objectives: [x]
instructions: Send to {peer_port:nobody}.
studies: [{key: s1}]
peers:
  - {key: ct, role: modality, ae_title: CT1, studies: [s2]}
tasks:
  - {key: t, title: T, checks: [{check: commitment_confirmed, params: {peer: ct}}]}
"""
    with pytest.raises(LabFileError, match=r"peers\.0\.studies: 's2' is not one of the lab's studies"):
        parse_lab(text, source="bad.yaml")
    fixed = text.replace("studies: [s2]", "studies: [s1]")
    with pytest.raises(LabFileError, match=r"names no peer"):
        parse_lab(fixed, source="bad.yaml")
    faulty = fixed.replace("{peer_port:nobody}", "{peer_port:ct}").replace("studies: [s1]}", "faults: {explode: 1}}")
    with pytest.raises(LabFileError, match=r"unknown fault"):
        parse_lab(faulty, source="bad.yaml")
    wrong_role = fixed.replace("{peer_port:nobody}", "{peer_port:ct}").replace("role: modality", "role: printer")
    with pytest.raises(LabFileError, match=r"peers\.0\.role"):
        parse_lab(wrong_role, source="bad.yaml")


def test_move_from_the_old_archive_fails_at_each_c_store_on_the_learner_node(learner, nodehost, tmp_path):
    attempt, outputs = _play_first(
        "retrieve-from-old-archive", 2, learner=learner, nodehost=nodehost, tmp_path=tmp_path
    )
    assert "PT-0701" in outputs[0] and "Prior CT thorax" in outputs[0]
    assert "Refused: OutOfResourcesSubOperations" in outputs[1], outputs[1]  # 0xA702: every sub-operation failed
    inbound = AssociationLog.objects.get(node=attempt.node, direction="in", calling_ae="OLD_ARCH")
    assert inbound.outcome == "accepted"
    statuses = {m.status for m in inbound.messages.filter(command="C-STORE")}
    assert statuses and 0 not in statuses
    result = grade_now(attempt).results.get(name="study_stored")
    assert not result.passed and "0 of 4 instances" in result.evidence

"""The lab pages and the checks that read only the log (no node host needed)."""

from __future__ import annotations

import io
import zipfile

from django.utils import timezone
from pydicom import dcmread

from labs.grading.checks import CATALOGUE, CheckContext, expected_instances
from labs.grading.models import GradingRun, LabAttempt
from labs.nodes.models import AssociationLog, DimseLog, Node
from labs.nodes.services import node_create
from labs.scenarios.loader import lab_catalogue
from tests.conftest import signed_in

EXPLICIT_LE = "1.2.840.10008.1.2.1"


def _log(node: Node, **kw) -> AssociationLog:
    base = {"direction": "in", "started_at": timezone.now(), "calling_ae": "MOD", "called_ae": node.ae_title}
    return AssociationLog.objects.create(node=node, **{**base, **kw})


def test_start_shows_the_node_address_commands_instructions_and_tasks(learner, monkeypatch):
    client = signed_in(learner)
    assert "Verify connectivity with C-ECHO" in client.get("/labs/").content.decode()
    assert client.post("/labs/verify-connectivity-echo/start/").status_code == 302
    attempt = LabAttempt.objects.get(learner=learner)
    node = attempt.node
    assert node is not None and node.ae_title == "ECHO_PACS" and node.kind == "lab"
    page = client.get("/labs/verify-connectivity-echo/").content.decode()
    assert f"echoscu -v -aet LEARNER_SCU -aec ECHO_PACS 127.0.0.1 {node.port}" in page
    assert "Open an association and verify it with C-ECHO" in page and "Check my work" in page
    assert "<script" not in page.split("</header>")[-1] and "style=" not in page
    from labs.grading import tasks

    monkeypatch.setattr(tasks.grade, "delay", lambda run_id: None)
    client.post(f"/labs/attempts/{attempt.pk}/check/")
    client.post(f"/labs/attempts/{attempt.pk}/check/")
    run = GradingRun.objects.get(attempt=attempt)  # a double click queues one run
    fragment = client.get(f"/labs/runs/{run.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in fragment and "<progress" in fragment


def test_lab_start_gives_the_lab_configuration(learner):
    client = signed_in(learner)
    client.post("/labs/register-ct-scanner/start/")
    node = LabAttempt.objects.get(learner=learner).node
    assert node is not None and node.reject_unknown_calling
    assert list(node.known_aes.values_list("ae_title", flat=True)) == ["LEARNER_SCU"]


def test_the_study_download_is_the_study_the_check_expects(learner):
    lab = lab_catalogue()["store-a-study"]
    data = signed_in(learner).get("/labs/store-a-study/studies/ct-chest.zip").content
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        uids = {str(dcmread(io.BytesIO(archive.read(n))).SOPInstanceUID) for n in archive.namelist()}
    assert uids == set(expected_instances(lab, "ct-chest")) and len(uids) == 4


def test_transfer_syntax_and_move_checks_quote_the_log(learner):
    node = node_create(owner=learner, start=False, ae_title="QR_PACS")
    ctx = CheckContext(node=node, since=timezone.now())
    ts = CATALOGUE["transfer_syntax_accepted"]
    assert ts(ctx, {"uid": EXPLICIT_LE}).passed
    assert not ts(ctx, {"uid": "1.2.840.10008.1.2.4.100"}).passed  # MPEG2: not offered by default
    assert not ts(ctx, {"uid": EXPLICIT_LE, "seen": True}).passed
    _log(node, outcome="accepted", accepted_contexts=[{"id": 1, "abstract": "1.2.840.10008.5.1.4.1.1.2",
                                                       "transfer": EXPLICIT_LE, "result": 0}])  # fmt: skip
    assert "PS3.8 §9.3.3.2" in ts(ctx, {"uid": EXPLICIT_LE, "seen": True}).evidence
    move = CATALOGUE["move_completed"]
    assert not move(ctx, {}).passed
    log = _log(node, outcome="accepted")
    DimseLog.objects.create(association=log, seq=1, command="C-MOVE", direction="in", message_id=3, status=0xA801)
    failed = move(ctx, {})
    assert not failed.passed and "0xA801" in failed.evidence
    DimseLog.objects.create(association=log, seq=2, command="C-MOVE", direction="in", message_id=4, status=0,
                            completed=4, failed=0)  # fmt: skip
    assert "4 completed" in move(ctx, {}).evidence


def test_association_seen_ignores_what_happened_before_the_attempt(learner):
    node = node_create(owner=learner, start=False, ae_title="OLD_PACS")
    _log(node, calling_ae="LEARNER_SCU", outcome="accepted")
    ctx = CheckContext(node=node, since=timezone.now())
    assert not CATALOGUE["association_seen"](ctx, {"calling_ae": "LEARNER_SCU"}).passed

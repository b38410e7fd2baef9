"""Simulated peers: started with the lab as nodes of their own, answering real DCMTK tools; a modality's send
reaches the learner's node and shows in both logs; declared faults behave as declared; two learners' peers
are separate."""

from __future__ import annotations

import pytest
from django.http import Http404

from labs.grading import peer_services, selectors
from labs.grading.models import LabPeer
from labs.nodes import selectors as node_selectors
from labs.nodes.models import AssociationLog, NodeKind, StoredInstance
from labs.scenarios.loader import lab_get
from tests.labs.fixtures import dcmtk, wait_for
from tests.labs.grading.helpers import start_lab

pytestmark = [pytest.mark.integration]

LAB = """
slug: peers-framework
title: Peers framework
tracks: [pacs-admin]
objectives: [Test the peers]
instructions: Send from {peer_ae:ct} on port {peer_port:ct}.
node:
  ae_title: LAB_PACS
studies:
  - {key: exam, seed: 7, images: 3, size: 16}
peers:
  - key: ct
    role: modality
    ae_title: CT_ROOM1
    studies: [exam]
  - key: ws
    role: workstation
    ae_title: WS_VIEW
    known_aes:
      - {ae_title: LAB_PACS, port: "{port}"}
  - key: busy
    role: faulty
    ae_title: BUSY_AE
    faults: {refuse: [2, 3, 1]}
  - key: flaky
    role: faulty
    ae_title: FLAKY_AE
    faults: {abort_after: 1}
  - key: slow
    role: faulty
    ae_title: SLOW_AE
    faults: {delay_ms: 2500}
tasks:
  - key: t
    title: T
    checks:
      - {check: study_stored, params: {study: exam, calling_ae: CT_ROOM1}}
"""


@pytest.fixture
def lab_dir(settings, tmp_path):
    directory = tmp_path / "labs"
    directory.mkdir()
    (directory / "peers-framework.yaml").write_text(LAB)
    settings.LABS_DIR = directory
    return directory


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    from labs.grading import tasks

    monkeypatch.setattr(tasks.grade, "delay", lambda run_id: None)
    monkeypatch.setattr(tasks.peer_send, "delay", lambda peer_id, token: None)


def test_peers_start_with_the_lab_answer_c_echo_and_stay_out_of_my_nodes(learner, nodehost, lab_dir):
    attempt = start_lab(learner, "peers-framework")
    peers = {p.key: p for p in selectors.attempt_peers(attempt)}
    assert set(peers) == {"ct", "ws", "busy", "flaky", "slow"}
    nodes = selectors.attempt_nodes(attempt)
    assert len(nodes) == 6 and nodes[0] == attempt.node
    for key in ("ct", "ws"):
        node = peers[key].node
        assert node.kind == NodeKind.PEER and node.owner_id == learner.pk and node.port != attempt.node.port
        out = dcmtk("echoscu", "-v", "-aet", "LEARNER", "-aec", node.ae_title, "127.0.0.1", str(node.port))
        assert out.returncode == 0, out.stdout
    assert list(node_selectors.nodes_of(learner)) == [attempt.node]
    with pytest.raises(Http404):
        node_selectors.node_of(learner, peers["ct"].node_id)
    values = selectors.attempt_placeholders(attempt)
    text = selectors.fill_placeholders(lab_get("peers-framework").instructions, values)
    assert text == f"Send from CT_ROOM1 on port {peers['ct'].node.port}."
    assert peers["ws"].node.known_aes.get().port == attempt.node.port


def test_modality_send_arrives_at_the_learner_node_and_shows_in_both_logs(learner, nodehost, lab_dir):
    attempt = start_lab(learner, "peers-framework")
    ct = attempt.peers.get(key="ct")
    message = peer_services.peer_send_execute(peer_id=ct.pk)
    nodehost.flush()
    assert "3 stored" in message
    rows = StoredInstance.objects.filter(node=attempt.node)
    assert rows.count() == 3 and {r.calling_ae for r in rows} == {"CT_ROOM1"}
    out = AssociationLog.objects.get(node=ct.node, direction="out")
    assert (out.calling_ae, out.called_ae, out.outcome) == ("CT_ROOM1", "LAB_PACS", "accepted")
    assert out.messages.filter(command="C-STORE", status=0).count() == 3
    inbound = wait_for(
        lambda: AssociationLog.objects.filter(node=attempt.node, direction="in", calling_ae="CT_ROOM1").first(),
        what="the inbound association in the learner node's log",
    )
    assert inbound.outcome == "accepted"
    ct.refresh_from_db()
    assert ct.settings["sends"] == 1 and ct.settings["last_send"] == message


def test_send_task_runs_once_per_press(learner, nodehost, lab_dir):
    attempt = start_lab(learner, "peers-framework")
    ct = attempt.peers.get(key="ct")
    token = peer_services.peer_send_request(peer=ct)
    assert "3 stored" in peer_services.peer_send_execute(peer_id=ct.pk, token=token)
    assert peer_services.peer_send_execute(peer_id=ct.pk, token=token) == "already sent"
    ct.refresh_from_db()
    assert ct.settings["sends"] == 1


def test_modality_destination_edited_on_its_console_is_where_it_sends(learner, nodehost, lab_dir):
    attempt = start_lab(learner, "peers-framework")
    ct, ws = attempt.peers.get(key="ct"), attempt.peers.get(key="ws")
    peer_services.peer_settings_update(peer=ct, dest_ae="WS_VIEW", dest_port=ws.node.port)
    assert "3 stored" in peer_services.peer_send_execute(peer_id=ct.pk)
    nodehost.flush()
    assert StoredInstance.objects.filter(node=ws.node).count() == 3
    assert not StoredInstance.objects.filter(node=attempt.node).exists()
    with pytest.raises(peer_services.PeerError, match="not valid"):
        peer_services.peer_settings_update(peer=ct, dest_ae="BAD\\AE")
    with pytest.raises(peer_services.PeerError, match="outside"):
        peer_services.peer_settings_update(peer=ct, dest_port=70000)
    ct.refresh_from_db()
    assert ct.settings["dest_ae"] == "WS_VIEW"


def test_declared_faults_refuse_and_abort(learner, nodehost, lab_dir, tmp_path):
    from labs.dicom import synthetic

    attempt = start_lab(learner, "peers-framework")
    busy, flaky = attempt.peers.get(key="busy").node, attempt.peers.get(key="flaky").node
    out = dcmtk("echoscu", "-aet", "LEARNER", "-aec", busy.ae_title, "127.0.0.1", str(busy.port))
    assert out.returncode != 0
    assert "Rejected Transient" in out.stdout and "Temporary Congestion" in out.stdout, out.stdout
    files = synthetic.write_study(synthetic.study(seed=3, series=1, images=3, size=16), tmp_path / "s")
    out = dcmtk("storescu", "-aet", "LEARNER", "-aec", flaky.ae_title, "127.0.0.1", str(flaky.port), *map(str, files))
    assert out.returncode != 0
    nodehost.flush()
    assert StoredInstance.objects.filter(node=flaky).count() == 1
    log = wait_for(
        lambda: AssociationLog.objects.filter(node=flaky, direction="in", calling_ae="LEARNER").first(),
        what="the aborted association logged",
    )
    assert "A-ABORT after 1" in log.detail


def test_a_slow_peer_answers_after_its_declared_delay(learner, nodehost, lab_dir):
    attempt = start_lab(learner, "peers-framework")
    slow = attempt.peers.get(key="slow").node
    impatient = dcmtk("echoscu", "-td", "1", "-aet", "LEARNER", "-aec", "SLOW_AE", "127.0.0.1", str(slow.port))
    assert impatient.returncode != 0, impatient.stdout  # a 1 s DIMSE timeout gives up before the answer
    patient = dcmtk("echoscu", "-td", "30", "-aet", "LEARNER", "-aec", "SLOW_AE", "127.0.0.1", str(slow.port))
    assert patient.returncode == 0, patient.stdout


def test_two_learners_have_separate_peers(learner, other_learner, nodehost, lab_dir):
    mine, theirs = start_lab(learner, "peers-framework"), start_lab(other_learner, "peers-framework")
    my_ct, their_ct = mine.peers.get(key="ct"), theirs.peers.get(key="ct")
    assert mine.node is not None and theirs.node is not None
    assert my_ct.node_id != their_ct.node_id and my_ct.node.port != their_ct.node.port
    assert my_ct.settings["dest_port"] == mine.node.port and their_ct.settings["dest_port"] == theirs.node.port
    peer_services.peer_send_execute(peer_id=my_ct.pk)
    nodehost.flush()
    assert StoredInstance.objects.filter(node=mine.node).count() == 3
    assert not StoredInstance.objects.filter(node=theirs.node).exists()
    with pytest.raises(Http404):
        selectors.peer_of(other_learner, mine.pk, "ct")
    assert selectors.peer_of(learner, mine.pk, "ct") == my_ct
    assert LabPeer.objects.filter(attempt__learner=other_learner).count() == 5


def test_modality_console_page_edits_settings_and_queues_a_send(learner, nodehost, lab_dir, monkeypatch):
    from labs.grading import tasks
    from tests.conftest import signed_in

    sent: list[tuple[int, str]] = []
    monkeypatch.setattr(tasks.peer_send, "delay", lambda peer_id, token: sent.append((peer_id, token)))
    attempt = start_lab(learner, "peers-framework")
    client = signed_in(learner)
    ct = attempt.peers.get(key="ct")
    assert attempt.node is not None
    page = client.get(f"/labs/attempts/{attempt.pk}/peers/ct/").content.decode()
    assert "CT_ROOM1" in page and f'value="{attempt.node.port}"' in page and "Send the study" in page
    lab_page = client.get("/labs/peers-framework/").content.decode()
    assert f"Send from CT_ROOM1 on port {ct.node.port}." in lab_page and "WS_VIEW" in lab_page
    form = {"dest_ae": "WS_VIEW", "dest_host": "127.0.0.1", "dest_port": "104", "declared_charset": "ISO_IR 192"}
    assert client.post(f"/labs/attempts/{attempt.pk}/peers/ct/settings/", form).status_code == 302
    ct.refresh_from_db()
    # this CT declares no lying character set: the console offers no such setting, and a forged field is ignored
    assert (ct.settings["dest_ae"], ct.settings["dest_port"], ct.settings["declared_charset"]) == ("WS_VIEW", 104, None)
    assert "Specific Character Set" not in page
    bad = client.post(f"/labs/attempts/{attempt.pk}/peers/ct/settings/", {**form, "dest_port": "0"}, follow=True)
    assert "Destination port" in bad.content.decode()
    ct.refresh_from_db()
    assert ct.settings["dest_port"] == 104  # nothing lost, nothing half-saved
    assert client.post(f"/labs/attempts/{attempt.pk}/peers/ct/send/").status_code == 302
    assert sent == [(ct.pk, ct.__class__.objects.get(pk=ct.pk).settings["send_token"])]
    pending = client.get(f"/labs/attempts/{attempt.pk}/peers/ct/", headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in pending and "Queued" in pending

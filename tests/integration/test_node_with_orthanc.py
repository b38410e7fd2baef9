"""Orthanc as a real peer: the node retrieves a study from Orthanc (C-MOVE to itself) and sends one to it."""

from __future__ import annotations

import pytest

from labs.dicom.synthetic import study, write_study
from labs.nodes import services
from labs.nodes.models import AssociationLog, StoredInstance
from tests.labs.fixtures import OrthancPeer, dcmtk, wait_for, wait_running

pytestmark = [pytest.mark.integration]


@pytest.fixture
def node(nodehost, learner):
    return wait_running(services.node_create(owner=learner, ae_title="LENA_PACS"))


@pytest.fixture
def orthanc(node, tmp_path):
    peer = OrthancPeer(tmp_path / "orthanc", aet="ORTHANC", modalities={"lena": ("LENA_PACS", "127.0.0.1", node.port)})
    yield peer
    peer.stop()


def test_the_node_moves_a_study_from_orthanc_to_itself(node, nodehost, orthanc, tmp_path):
    datasets = study(seed=21, series=1, images=4, patient_id="ORT-1")
    paths = write_study(datasets, tmp_path / "to-orthanc")
    sent = dcmtk("storescu", "-aec", "ORTHANC", "+sd", "127.0.0.1", str(orthanc.dicom_port), str(paths[0].parent))
    assert sent.returncode == 0, sent.stdout
    known = services.known_ae_add(node=node, ae_title="ORTHANC", host="127.0.0.1", port=orthanc.dicom_port)

    assert services.node_echo(node=node, known=known).ok
    found = services.node_find(
        node=node, known=known, level="STUDY", keys={"PatientID": "ORT-1", "StudyInstanceUID": ""}
    )
    assert [m["StudyInstanceUID"] for m in found.matches] == [datasets[0].StudyInstanceUID]

    moved = services.node_move(
        node=node, known=known, level="STUDY", keys={"StudyInstanceUID": datasets[0].StudyInstanceUID}
    )
    assert moved.ok, moved.message
    assert (moved.completed, moved.failed) == (4, 0)
    nodehost.flush()
    stored = set(StoredInstance.objects.filter(node=node).values_list("sop_instance_uid", flat=True))
    assert stored == {ds.SOPInstanceUID for ds in datasets}
    inbound = AssociationLog.objects.filter(node=node, direction="in", calling_ae="ORTHANC").get()
    assert inbound.messages.filter(command="C-STORE", status=0).count() == 4
    outbound = AssociationLog.objects.filter(node=node, direction="out", messages__command="C-MOVE").get()
    assert outbound.called_ae == "ORTHANC"


def test_the_node_sends_a_study_to_orthanc(node, nodehost, orthanc, tmp_path):
    datasets = study(seed=22, series=2, images=2, patient_id="SEND-1")
    paths = write_study(datasets, tmp_path / "to-node")
    assert (
        dcmtk("storescu", "-aec", "LENA_PACS", "+sd", "127.0.0.1", str(node.port), str(paths[0].parent)).returncode == 0
    )
    nodehost.flush()
    known = services.known_ae_add(node=node, ae_title="ORTHANC", host="127.0.0.1", port=orthanc.dicom_port)
    result = services.node_send_study(node=node, known=known, study_instance_uid=datasets[0].StudyInstanceUID)
    assert result.ok, result.message
    assert result.completed == 4
    assert len(orthanc.rest("/instances")) == 4
    uids = {orthanc.rest(f"/instances/{i}")["MainDicomTags"]["SOPInstanceUID"] for i in orthanc.rest("/instances")}
    assert uids == {ds.SOPInstanceUID for ds in datasets}


def test_a_wrong_called_ae_towards_orthanc_is_explained(node, nodehost, orthanc):
    known = services.known_ae_add(node=node, ae_title="ORTHANK", host="127.0.0.1", port=orthanc.dicom_port)
    result = services.node_echo(node=node, known=known)
    assert not result.ok
    assert "ORTHANK rejected the association" in result.message
    assert "Called AE Title Not Recognized" in result.message
    log = wait_for(lambda: AssociationLog.objects.filter(node=node, direction="out").first(), what="log")
    assert (log.reject_result, log.reject_source, log.reject_reason) == (1, 1, 7)


def test_sending_outside_the_allowed_networks_is_refused_with_a_clear_message(node, nodehost, settings):
    known = services.known_ae_add(node=node, ae_title="FAR_AWAY", host="192.0.2.10", port=104)
    result = services.node_echo(node=node, known=known)
    assert not result.ok
    assert "outside the networks this platform may connect to" in result.message
    assert AssociationLog.objects.get(node=node, direction="out").outcome == "refused"

"""Storage commitment push model (PS3.4 Annex J) with pynetdicom as the requester: N-ACTION, then the node's
N-EVENT-REPORT on a new association back to the requester."""

from __future__ import annotations

import queue
import socket

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom import AE, evt
from pynetdicom.sop_class import StorageCommitmentPushModel

from labs.dicom.synthetic import study, write_study
from labs.nodes import services
from labs.nodes.models import AssociationLog
from tests.labs.fixtures import dcmtk, wait_for, wait_running

pytestmark = [pytest.mark.integration]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request_commitment(node_port: int, refs: list[tuple[str, str]], transaction: str) -> int:
    ae = AE(ae_title="MODALITY")
    ae.add_requested_context(StorageCommitmentPushModel)
    assoc = ae.associate("127.0.0.1", node_port, ae_title="LENA_PACS")
    assert assoc.is_established
    info = Dataset()
    info.TransactionUID = transaction
    items = []
    for sop_class, sop_instance in refs:
        item = Dataset()
        item.ReferencedSOPClassUID = sop_class
        item.ReferencedSOPInstanceUID = sop_instance
        items.append(item)
    info.ReferencedSOPSequence = items
    status, _ = assoc.send_n_action(info, 1, StorageCommitmentPushModel, "1.2.840.10008.1.20.1.1")
    assoc.release()
    return int(status.Status)


@pytest.fixture
def node(nodehost, learner):
    return wait_running(services.node_create(owner=learner, ae_title="LENA_PACS"))


def test_commitment_is_confirmed_by_an_n_event_report_on_a_new_association(node, nodehost, tmp_path):
    datasets = study(seed=31, series=1, images=2)
    paths = write_study(datasets, tmp_path / "study")
    assert (
        dcmtk(
            "storescu",
            "-aet",
            "MODALITY",
            "-aec",
            "LENA_PACS",
            "+sd",
            "127.0.0.1",
            str(node.port),
            str(paths[0].parent),
        ).returncode
        == 0
    )
    nodehost.flush()

    reports: queue.Queue[tuple[int, Dataset, str]] = queue.Queue()

    def on_report(event):
        reports.put((int(event.request.EventTypeID), event.event_information, event.assoc.requestor.ae_title))
        return 0x0000, None

    port = free_port()
    receiver = AE(ae_title="MODALITY")
    receiver.add_supported_context(StorageCommitmentPushModel, scu_role=True, scp_role=True)
    server = receiver.start_server(("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_N_EVENT_REPORT, on_report)])
    assert server is not None
    try:
        services.known_ae_add(node=node, ae_title="MODALITY", host="127.0.0.1", port=port)
        wait_running(node)
        transaction = generate_uid()
        refs = [(ds.SOPClassUID, ds.SOPInstanceUID) for ds in datasets] + [(datasets[0].SOPClassUID, "1.2.3.4.5")]
        assert request_commitment(node.port, refs, transaction) == 0x0000
        event_type, info, calling = reports.get(timeout=20)
    finally:
        server.shutdown()
    assert calling == "LENA_PACS"
    assert event_type == 2  # failures exist: one instance was never stored
    assert info.TransactionUID == transaction
    assert {i.ReferencedSOPInstanceUID for i in info.ReferencedSOPSequence} == {ds.SOPInstanceUID for ds in datasets}
    [failed] = info.FailedSOPSequence
    assert (failed.ReferencedSOPInstanceUID, failed.FailureReason) == ("1.2.3.4.5", 0x0112)
    nodehost.flush()
    report_log = wait_for(
        lambda: AssociationLog.objects.filter(node=node, direction="out", messages__command="N-EVENT-REPORT").first(),
        what="the outbound report in the log",
    )
    assert report_log.messages.get(command="N-EVENT-REPORT").status == 0


def test_an_unregistered_requester_gets_no_report_and_the_log_says_why(node, nodehost):
    assert request_commitment(node.port, [("1.2.840.10008.5.1.4.1.1.2", "1.2.3")], generate_uid()) == 0x0000
    log = wait_for(lambda: AssociationLog.objects.filter(node=node, direction="out").first(), what="refusal")
    assert log.outcome == "refused"
    assert "MODALITY is not a known AE" in log.explanation

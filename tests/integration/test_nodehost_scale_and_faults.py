"""The node host under load and abuse: hundreds of nodes, malformed PDUs and data sets, a killed host."""

from __future__ import annotations

import os
import signal
import socket
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pynetdicom import AE

from labs.dicom.synthetic import study, write_study
from labs.nodes import services
from labs.nodes.models import AssociationLog, Node, NodeKind, StoredInstance
from tests.factories import UserFactory
from tests.labs.fixtures import NodeHostProcess, dcmtk, echo_ok, wait_for, wait_running

pytestmark = [pytest.mark.integration]


def port_closed(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_two_hundred_nodes_start_answer_c_echo_and_stop(nodehost, settings):
    settings.NODE_MAX_PER_LEARNER = 10
    learners: list[Any] = [UserFactory(username=f"scale{i}") for i in range(20)]
    nodes = [
        services.node_create(owner=learners[i % 20], kind=NodeKind.LAB, ae_title=f"NODE{i:03d}") for i in range(200)
    ]
    assert len({n.port for n in nodes}) == 200
    for node in nodes:
        wait_running(node, timeout=60)
    with ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(lambda n: echo_ok(n.port, n.ae_title), nodes))
    assert all(answers), [n.ae_title for n, ok in zip(nodes, answers, strict=True) if not ok]

    Node.objects.update(desired="stopped", revision=1000)
    wait_for(lambda: Node.objects.filter(status="stopped").count() == 200, timeout=60, what="every node stopped")
    assert all(port_closed(n.port) for n in nodes)


@pytest.fixture
def two_nodes(nodehost, learner, other_learner):
    a = wait_running(services.node_create(owner=learner, ae_title="VICTIM"))
    b = wait_running(services.node_create(owner=other_learner, ae_title="BYSTANDER"))
    return a, b


def raw_send(port: int, payload: bytes) -> bytes:
    """Send raw bytes and return what the node answers before it closes or goes quiet for 2 s."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(payload)
        s.settimeout(2)
        chunks = []
        try:
            while chunk := s.recv(4096):
                chunks.append(chunk)
        except OSError:
            pass
        return b"".join(chunks)


def associate_rq(called: bytes, calling: bytes) -> bytes:
    """A minimal A-ASSOCIATE-RQ PDU (PS3.8 §9.3.2) proposing Verification."""
    app = b"\x10\x00" + struct.pack(">H", 21) + b"1.2.840.10008.3.1.1.1"
    abstract = b"\x30\x00" + struct.pack(">H", 17) + b"1.2.840.10008.1.1"
    ts = b"\x40\x00" + struct.pack(">H", 17) + b"1.2.840.10008.1.2"
    pc_body = b"\x01\x00\x00\x00" + abstract + ts
    pc = b"\x20\x00" + struct.pack(">H", len(pc_body)) + pc_body
    max_len = b"\x51\x00\x00\x04" + struct.pack(">L", 16384)
    uid = b"\x52\x00" + struct.pack(">H", 5) + b"1.2.3"
    user = b"\x50\x00" + struct.pack(">H", len(max_len + uid)) + max_len + uid
    body = b"\x00\x01\x00\x00" + called.ljust(16) + calling.ljust(16) + b"\x00" * 32 + app + pc + user
    return b"\x01\x00" + struct.pack(">L", len(body)) + body


MALFORMED = {
    "garbage": b"\xde\xad\xbe\xef" * 64,
    "unknown PDU type": b"\x09\x00\x00\x00\x00\x04abcd",
    "truncated header": b"\x01\x00\x00",
    "truncated A-ASSOCIATE-RQ": associate_rq(b"VICTIM", b"EVIL")[:40],
    "wrong PDU length": b"\x01\x00" + struct.pack(">L", 20) + associate_rq(b"VICTIM", b"EVIL")[6:],
    "huge declared length": b"\x04\x00\xff\xff\xff\xff" + b"\x00" * 100,
    "bad item inside A-ASSOCIATE-RQ": associate_rq(b"VICTIM", b"EVIL")[:74] + b"\x77\x00\xff\xff" + b"x" * 30,
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_pdus_do_not_crash_the_host_or_touch_another_node(two_nodes, nodehost, kind):
    victim, bystander = two_nodes
    raw_send(victim.port, MALFORMED[kind])
    assert echo_ok(victim.port, "VICTIM")
    assert echo_ok(bystander.port, "BYSTANDER")
    assert nodehost.thread.is_alive()
    nodehost.flush()
    assert not AssociationLog.objects.filter(node=bystander, outcome__in=["failed", "aborted"]).exists()


def test_a_valid_association_request_over_a_raw_socket_is_answered(two_nodes):
    victim, _ = two_nodes
    answer = raw_send(victim.port, associate_rq(b"VICTIM", b"RAW"))
    assert answer[:1] == b"\x02"  # A-ASSOCIATE-AC


def send_raw_file(port: int, called: str, payload: bytes, sop_class: str, sop_instance: str) -> int | None:
    """C-STORE a file's bytes without pynetdicom decoding them (chunked send)."""
    from pynetdicom import _config

    ae = AE(ae_title="FUZZER")
    ae.add_requested_context(sop_class, "1.2.840.10008.1.2.1")
    assoc = ae.associate("127.0.0.1", port, ae_title=called)
    assert assoc.is_established
    old = _config.STORE_SEND_CHUNKED_DATASET
    _config.STORE_SEND_CHUNKED_DATASET = True
    try:
        import uuid

        path = Path(os.environ.get("TMPDIR", "/tmp")) / f"fuzz-{uuid.uuid4().hex}.dcm"
        path.write_bytes(payload)
        rsp = assoc.send_c_store(path)
        path.unlink()
        return int(rsp.Status) if rsp and "Status" in rsp else None
    finally:
        _config.STORE_SEND_CHUNKED_DATASET = old
        if assoc.is_established:
            assoc.release()


def file_bytes(ds: Dataset) -> bytes:
    from io import BytesIO

    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI")
def test_garbage_data_sets_and_path_like_uids_get_failure_statuses(two_nodes, nodehost, tmp_path):
    victim, bystander = two_nodes
    good = study(seed=41, series=1, images=1)[0]
    raw = file_bytes(good)
    meta_end = raw.index(b"\x08\x00")  # first data set element after the file meta (group 0008)
    truncated = raw[: meta_end + 200]
    huge = raw[:meta_end] + b"\x10\x00\x10\x00PN" + struct.pack("<H", 0xFFFF) + b"x" * 64
    two_gb = raw[:meta_end] + b"\xe0\x7f\x10\x00OB\x00\x00" + struct.pack("<L", 0x7FFFFFF0) + b"\x00" * 64

    for payload in (truncated, huge, two_gb):
        status = send_raw_file(victim.port, "VICTIM", payload, good.SOPClassUID, good.SOPInstanceUID)
        assert status is not None and status != 0x0000, hex(status or 0)

    evil = good.copy()
    evil.SOPInstanceUID = "1.2.3/../../../../tmp/evil"
    evil.file_meta = FileMetaDataset(good.file_meta)
    evil.file_meta.MediaStorageSOPInstanceUID = evil.SOPInstanceUID
    status = send_raw_file(victim.port, "VICTIM", file_bytes(evil), good.SOPClassUID, evil.SOPInstanceUID)
    assert status == 0xA900
    assert not Path("/tmp/evil.dcm").exists()

    nodehost.flush()
    assert not StoredInstance.objects.filter(node=victim).exists()
    assert echo_ok(victim.port, "VICTIM") and echo_ok(bystander.port, "BYSTANDER")
    stored = list((Path(nodehost.service.options.storage_root) / str(victim.pk) / "objects").iterdir())
    assert stored == []


def test_flooding_a_node_hits_its_quota_and_the_neighbour_keeps_storing(two_nodes, nodehost, tmp_path):
    victim, bystander = two_nodes
    services.node_configure(node=victim, quota_bytes=200_000)
    wait_running(victim)
    paths = write_study(study(seed=42, series=1, images=30, size=64), tmp_path / "flood")
    flood = dcmtk("storescu", "-v", "-aec", "VICTIM", "+sd", "127.0.0.1", str(victim.port), str(paths[0].parent))
    assert "Refused: OutOfResources" in flood.stdout
    other = dcmtk("storescu", "-aec", "BYSTANDER", "+sd", "127.0.0.1", str(bystander.port), str(paths[0].parent))
    assert other.returncode == 0, other.stdout
    nodehost.flush()
    assert StoredInstance.objects.filter(node=bystander).count() == 30
    used = sum(StoredInstance.objects.filter(node=victim).values_list("size", flat=True))
    assert 0 < used <= 200_000


@pytest.fixture
def host_process(transactional_db, node_settings, tmp_path):
    proc = NodeHostProcess(tmp_path, node_settings.NODE_STORAGE_ROOT)
    proc.start()
    yield proc
    proc.stop()


def test_a_killed_node_host_comes_back_with_every_node_on_its_port_and_its_data(host_process, learner, tmp_path):
    nodes = [services.node_create(owner=learner, kind=NodeKind.LAB, ae_title=f"KILL{i}") for i in range(3)]
    for node in nodes:
        wait_running(node, timeout=60)
    datasets = study(seed=51, series=1, images=3)
    paths = write_study(datasets, tmp_path / "study")
    assert (
        dcmtk("storescu", "-aec", "KILL0", "+sd", "127.0.0.1", str(nodes[0].port), str(paths[0].parent)).returncode == 0
    )
    wait_for(lambda: StoredInstance.objects.filter(node=nodes[0]).count() == 3, what="index rows")
    first_pid = wait_for(host_process.worker_pid, what="a heartbeat")

    os.kill(first_pid, signal.SIGKILL)  # the supervisor starts a new worker
    wait_for(lambda: (host_process.worker_pid() or first_pid) != first_pid, timeout=60, what="a restarted worker")
    for node in nodes:
        wait_for(lambda node=node: echo_ok(node.port, node.ae_title), timeout=60, what=f"{node.ae_title} back")
        node.refresh_from_db()
    assert [n.port for n in nodes] == [n.port for n in Node.objects.filter(pk__in=[n.pk for n in nodes]).order_by("pk")]
    found = dcmtk(
        "findscu",
        "-S",
        "-aec",
        "KILL0",
        "-k",
        "QueryRetrieveLevel=IMAGE",
        "-k",
        f"StudyInstanceUID={datasets[0].StudyInstanceUID}",
        "-k",
        "SOPInstanceUID",
        "127.0.0.1",
        str(nodes[0].port),
    )
    assert all(ds.SOPInstanceUID in found.stdout for ds in datasets)

    # kill -9 of supervisor and worker together, with index rows lost as if still queued: a new host rebuilds them
    host_process.kill_all()
    StoredInstance.objects.filter(node=nodes[0]).delete()
    host_process.stop()
    host_process.start()
    for node in nodes:
        wait_for(lambda node=node: echo_ok(node.port, node.ae_title), timeout=60, what=f"{node.ae_title} back again")
    wait_for(lambda: StoredInstance.objects.filter(node=nodes[0]).count() == 3, timeout=30, what="re-indexed files")
    row = StoredInstance.objects.filter(node=nodes[0]).first()
    assert row is not None and row.pixel_hash
    assert dcmread(paths[0]).PatientName == row.patient_name


def test_index_verification_keeps_rows_of_objects_stored_while_it_compares(nodehost, learner, tmp_path, monkeypatch):
    """A start's index verification lists the files, then reads the index: an object stored in between (a
    simulated modality sends as soon as a lab starts) has a row but was not listed; it must keep its row."""
    from labs.nodehost import host as host_module

    node = wait_running(services.node_create(owner=learner, kind=NodeKind.LAB))
    files = write_study(study(seed=9, series=1, images=2, size=16), tmp_path / "s")
    out = dcmtk("storescu", "-aet", "SCU", "-aec", node.ae_title, "127.0.0.1", str(node.port), *map(str, files))
    assert out.returncode == 0, out.stdout
    nodehost.flush()
    assert StoredInstance.objects.filter(node=node).count() == 2
    runtime = nodehost.service.state.runtimes[node.pk]
    objects = str(runtime.config.storage_dir / "objects")
    real_scandir = os.scandir

    def listing_taken_before_the_stores(path: Any) -> Any:
        return iter(()) if str(path) == objects else real_scandir(path)

    monkeypatch.setattr(host_module.os, "scandir", listing_taken_before_the_stores)
    nodehost.service._verify_index(runtime)
    nodehost.flush()
    assert StoredInstance.objects.filter(node=node).count() == 2


def test_a_node_started_on_a_preloaded_store_has_every_object_indexed_once_it_runs(nodehost, learner):
    """A lab writes its preloaded studies into the store before the node starts: when the node shows as running
    (what the lab page and the first check wait for), C-FIND must already see them — no flush, no waiting."""
    from labs.dicom.synthetic import write_into_store
    from labs.nodes.selectors import node_storage_dir

    node = services.node_create(owner=learner, kind=NodeKind.LAB, start=False)
    write_into_store(study(seed=21, series=2, images=6, size=16), node_storage_dir(node.pk))
    services.node_start(node=node)
    wait_for(lambda: Node.objects.filter(pk=node.pk, status="running").exists(), timeout=15, what="node running")
    assert StoredInstance.objects.filter(node=node).count() == 12
    found = dcmtk("findscu", "-S", "-aec", node.ae_title, "-k", "QueryRetrieveLevel=IMAGE", "-k", "SOPInstanceUID",
                  "127.0.0.1", str(node.port))  # fmt: skip
    assert found.stdout.count("(0008,0018)") == 12, found.stdout

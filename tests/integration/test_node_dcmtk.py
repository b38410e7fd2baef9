"""A learner's node answers real DCMTK tools over loopback with the statuses and messages a learner sees."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset

from labs.dicom.synthetic import study, write_study
from labs.nodes import services
from labs.nodes.models import AssociationLog, StoredInstance
from tests.labs.fixtures import dcmtk, wait_for, wait_running

pytestmark = [pytest.mark.integration]

US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.3.1"


def sample_file(name: str) -> str:
    path = get_testdata_file(name, download=False)
    assert path, name
    return str(path)


@pytest.fixture
def node(nodehost, learner):
    node = services.node_create(owner=learner, ae_title="LENA_PACS")
    return wait_running(node)


def ask(node, tool: str, *options: str, keys: list[str] | tuple[str, ...] = ()):
    """Run a DCMTK tool against the node: options, then each key as -k, then the node's address."""
    args = [tool, *options, "-aec", "LENA_PACS"]
    for key in keys:
        args += ["-k", key]
    return dcmtk(*args, "127.0.0.1", str(node.port))


def send_study(node, paths) -> None:
    result = dcmtk("storescu", "-aec", "LENA_PACS", "+sd", "127.0.0.1", str(node.port), str(paths[0].parent))
    assert result.returncode == 0, result.stdout


def last_log(node) -> AssociationLog:
    return wait_for(lambda: AssociationLog.objects.filter(node=node).order_by("-id").first(), what="log row")


def test_echoscu_gets_success_from_a_running_node(node, nodehost):
    result = dcmtk("echoscu", "-v", "-aet", "MYSCU", "-aec", "LENA_PACS", "127.0.0.1", str(node.port))
    assert result.returncode == 0, result.stdout
    assert "Received Echo Response (Success)" in result.stdout
    nodehost.flush()
    log = last_log(node)
    assert (log.calling_ae, log.called_ae, log.outcome, log.ended_by) == ("MYSCU", "LENA_PACS", "accepted", "release")
    assert [(m.command, m.status) for m in log.messages.all()] == [("C-ECHO", 0)]
    assert log.bytes_in > 0 and log.bytes_out > 0


def test_associations_leave_no_open_descriptors_behind(node, nodehost):
    """Each association's sockets (the peer's and the reactor's wake-up pair) close with it: a host that leaked
    a few per association would stop accepting connections after a day of learners."""
    import os

    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    assert dcmtk("echoscu", "-aec", "LENA_PACS", "127.0.0.1", str(node.port)).returncode == 0
    nodehost.flush()
    before = open_fds()
    for _ in range(25):
        assert dcmtk("echoscu", "-aec", "LENA_PACS", "127.0.0.1", str(node.port)).returncode == 0
    nodehost.flush()
    wait_for(lambda: open_fds() <= before + 2, timeout=10, what=f"descriptors back to {before} (now {open_fds()})")


def test_wrong_called_ae_title_is_rejected_1_1_7_with_dcmtks_message(node, nodehost):
    result = dcmtk("echoscu", "-aet", "MYSCU", "-aec", "lena_pacs", "127.0.0.1", str(node.port))
    assert result.returncode != 0
    assert "Association Rejected" in result.stdout
    assert "Result: Rejected Permanent, Source: Service User" in result.stdout
    assert "Reason: Called AE Title Not Recognized" in result.stdout
    nodehost.flush()
    log = last_log(node)
    assert (log.outcome, log.reject_result, log.reject_source, log.reject_reason) == ("rejected", 1, 1, 7)
    assert "lena_pacs" in log.explanation and "PS3.8 §9.3.4" in log.reference


def test_unknown_calling_ae_is_rejected_1_1_3_when_the_node_rejects_unknown_callers(node, nodehost):
    services.known_ae_add(node=node, ae_title="CT_SCANNER", host="127.0.0.1", port=11112)
    services.node_configure(node=node, reject_unknown_calling=True)
    wait_running(node)
    result = dcmtk("echoscu", "-aet", "ct_scanner", "-aec", "LENA_PACS", "127.0.0.1", str(node.port))
    assert "Reason: Calling AE Title Not Recognized" in result.stdout
    assert result.returncode != 0
    ok = dcmtk("echoscu", "-aet", "CT_SCANNER", "-aec", "LENA_PACS", "127.0.0.1", str(node.port))
    assert ok.returncode == 0, ok.stdout
    nodehost.flush()
    rejected = AssociationLog.objects.filter(node=node, outcome="rejected").get()
    assert (rejected.calling_ae, rejected.reject_reason) == ("ct_scanner", 3)
    assert "compared exactly" in rejected.explanation


def test_a_sop_class_the_node_does_not_accept_gives_no_presentation_context(node, nodehost):
    services.node_configure(node=node, accept_all_storage=False, sop_classes=["1.2.840.10008.5.1.4.1.1.2"])
    wait_running(node)
    result = dcmtk(
        "storescu",
        "-aet",
        "US_CART",
        "-aec",
        "LENA_PACS",
        "127.0.0.1",
        str(node.port),
        sample_file("examples_ybr_color.dcm"),
    )
    assert "No presentation context for: (US" in result.stdout
    nodehost.flush()
    log = last_log(node)
    us = [c for c in log.accepted_contexts if c["abstract"] == US_MULTIFRAME]
    assert us and all(c["result"] == 3 for c in us)  # abstract syntax not supported (PS3.8 §9.3.3.2)
    assert "No presentation context for" in log.explanation
    assert not StoredInstance.objects.filter(node=node).exists()


@pytest.mark.parametrize(
    ("name", "propose"),
    [
        ("CT_small.dcm", "-x="),  # Explicit VR Little Endian
        ("MR_small_implicit.dcm", "-xi"),  # Implicit VR Little Endian
        ("MR_small_RLE.dcm", "-xr"),  # RLE Lossless
        ("MR_small_jp2klossless.dcm", "-xv"),  # JPEG 2000 Lossless
        ("MR_small_jpeg_ls_lossless.dcm", "-xt"),  # JPEG-LS Lossless
        ("JPEG-lossy.dcm", "-xx"),  # JPEG Extended (12 bit)
        ("SC_rgb_jpeg_gdcm.dcm", "-xs"),  # JPEG Lossless SV1
        ("examples_ybr_color.dcm", "-xy"),  # JPEG Baseline, multi-frame ultrasound
        ("image_dfl.dcm", "-xd"),  # Deflated Explicit VR Little Endian
    ],
)
def test_storescu_stores_each_transfer_syntax_as_sent_with_its_pixel_hash(node, nodehost, name, propose):
    path = sample_file(name)
    sent = dcmread(path)
    result = dcmtk("storescu", propose, "-aet", "MODALITY", "-aec", "LENA_PACS", "127.0.0.1", str(node.port), path)
    assert result.returncode == 0, result.stdout
    nodehost.flush()
    row = StoredInstance.objects.get(node=node, sop_instance_uid=sent.SOPInstanceUID)
    assert row.transfer_syntax_uid == sent.file_meta.TransferSyntaxUID
    assert row.pixel_hash == hashlib.sha256(sent.PixelData).hexdigest()
    stored = dcmread(Path(node_settings_root(node)) / row.relpath)
    assert stored.SOPInstanceUID == sent.SOPInstanceUID
    assert row.calling_ae == "MODALITY"


def node_settings_root(node) -> Path:
    from labs.nodes.selectors import node_storage_dir

    return node_storage_dir(node.pk)


@pytest.fixture
def ct_study(tmp_path):
    datasets = study(seed=7, series=2, images=3, patient_name="DOE^JANE", patient_id="MRN-7")
    return datasets, write_study(datasets, tmp_path / "study")


def test_storescu_sends_a_whole_study_directory_and_findscu_finds_it_at_every_level(node, nodehost, ct_study):
    datasets, paths = ct_study
    result = dcmtk(
        "storescu",
        "-aet",
        "CT_SCANNER",
        "-aec",
        "LENA_PACS",
        "+sd",
        "+r",
        "127.0.0.1",
        str(node.port),
        str(paths[0].parent),
    )
    assert result.returncode == 0, result.stdout
    nodehost.flush()
    assert StoredInstance.objects.filter(node=node).count() == 6
    study_uid = datasets[0].StudyInstanceUID

    studies = ask(
        node,
        "findscu",
        "-S",
        "-aet",
        "WS",
        keys=[
            "QueryRetrieveLevel=STUDY",
            "PatientName=DOE*",
            "StudyDate=20250101-20250131",
            "StudyInstanceUID",
            "ModalitiesInStudy",
            "NumberOfStudyRelatedInstances",
        ],
    )
    assert studies.returncode == 0, studies.stdout
    assert study_uid in studies.stdout
    assert "[DOE^JANE]" in studies.stdout and "[6 ]" in studies.stdout

    none = ask(
        node,
        "findscu",
        "-S",
        "-aet",
        "WS",
        keys=["QueryRetrieveLevel=STUDY", "StudyDate=20240101-20241231", "StudyInstanceUID"],
    )
    assert study_uid not in none.stdout

    patients = ask(
        node,
        "findscu",
        "-P",
        "-aet",
        "WS",
        keys=["QueryRetrieveLevel=PATIENT", "PatientID=MRN-7", "PatientName", "NumberOfPatientRelatedStudies"],
    )
    assert "[DOE^JANE]" in patients.stdout and "[1 ]" in patients.stdout

    series_uids = {ds.SeriesInstanceUID for ds in datasets}
    series = ask(
        node,
        "findscu",
        "-S",
        "-aet",
        "WS",
        keys=[
            "QueryRetrieveLevel=SERIES",
            f"StudyInstanceUID={study_uid}",
            "SeriesInstanceUID",
            "Modality",
            "NumberOfSeriesRelatedInstances",
        ],
    )
    assert all(uid in series.stdout for uid in series_uids)
    assert series.stdout.count("(Pending)") == 2  # one pending response per series

    one_uid = datasets[4].SOPInstanceUID
    image = ask(
        node,
        "findscu",
        "-S",
        "-aet",
        "WS",
        keys=[
            "QueryRetrieveLevel=IMAGE",
            f"StudyInstanceUID={study_uid}",
            f"SeriesInstanceUID={datasets[4].SeriesInstanceUID}",
            f"SOPInstanceUID={one_uid}\\1.2.3",
            "InstanceNumber",
        ],
    )
    assert one_uid in image.stdout and image.stdout.count("(Pending)") == 1


def test_findscu_worklist_matches_on_the_scheduled_procedure_step_sequence(node, nodehost):
    services.worklist_item_add(
        node=node,
        patient_name="WORK^LIST",
        patient_id="W1",
        accession_number="A1",
        modality="CT",
        station_ae_title="CT_SCANNER",
        start_date="20250301",
    )
    services.worklist_item_add(
        node=node,
        patient_name="OTHER^ONE",
        patient_id="W2",
        accession_number="A2",
        modality="MR",
        station_ae_title="MR_SCANNER",
        start_date="20250301",
    )

    def query(*keys: str):
        args = [
            "findscu",
            "-W",
            "-aet",
            "CT_SCANNER",
            "-aec",
            "LENA_PACS",
            "-k",
            "PatientName",
            "-k",
            "AccessionNumber",
        ]
        for key in keys:
            args += ["-k", key]
        return dcmtk(*args, "127.0.0.1", str(node.port))

    ct = query(
        "(0040,0100)[0].Modality=CT",
        "(0040,0100)[0].ScheduledStationAETitle=CT_SCANNER",
        "(0040,0100)[0].ScheduledProcedureStepStartDate=20250301-20250302",
    )
    assert ct.returncode == 0, ct.stdout
    assert "WORK^LIST" in ct.stdout and "OTHER^ONE" not in ct.stdout
    wrong_station = query("(0040,0100)[0].ScheduledStationAETitle=CT_SCANNR")
    assert wrong_station.returncode == 0 and "WORK^LIST" not in wrong_station.stdout
    everything = query("(0040,0100)[0].Modality")
    assert "WORK^LIST" in everything.stdout and "OTHER^ONE" in everything.stdout


def test_movescu_to_an_unknown_destination_gets_a801_and_to_a_known_one_receives_the_study(
    node, nodehost, ct_study, tmp_path
):
    import socket
    import subprocess

    datasets, paths = ct_study
    assert (
        dcmtk("storescu", "-aec", "LENA_PACS", "+sd", "127.0.0.1", str(node.port), str(paths[0].parent)).returncode == 0
    )
    study_uid = datasets[0].StudyInstanceUID
    unknown = ask(
        node,
        "movescu",
        "-S",
        "-aet",
        "WS",
        "-aem",
        "WS",
        keys=["QueryRetrieveLevel=STUDY", f"StudyInstanceUID={study_uid}"],
    )
    assert "Move response with error status (Refused: MoveDestinationUnknown)" in unknown.stdout

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        receive_port = s.getsockname()[1]
    services.known_ae_add(node=node, ae_title="WS", host="127.0.0.1", port=receive_port)
    wait_running(node)
    out = tmp_path / "received"
    out.mkdir()
    receiver = subprocess.Popen(["storescp", "-aet", "WS", "-od", str(out), str(receive_port)])
    try:
        wait_for(
            lambda: dcmtk("echoscu", "-aec", "WS", "127.0.0.1", str(receive_port)).returncode == 0, what="storescp"
        )
        moved = ask(
            node,
            "movescu",
            "-v",
            "-S",
            "-aet",
            "WS",
            "-aem",
            "WS",
            keys=["QueryRetrieveLevel=STUDY", f"StudyInstanceUID={study_uid}"],
        )
    finally:
        receiver.terminate()
        receiver.wait(10)
    assert moved.returncode == 0, moved.stdout
    assert "Received Move Response 6 (Pending)" in moved.stdout
    assert "Received Final Move Response (Success)" in moved.stdout
    received = {dcmread(p).SOPInstanceUID for p in out.iterdir()}
    assert received == {ds.SOPInstanceUID for ds in datasets}
    nodehost.flush()
    move = AssociationLog.objects.filter(node=node, direction="in", messages__command="C-MOVE").order_by("-started_at")[
        0
    ]
    final = move.messages.get(command="C-MOVE")
    assert (final.status, final.completed, final.failed) == (0, 6, 0)
    assert final.pending == 6
    outbound = AssociationLog.objects.filter(node=node, direction="out").order_by("-started_at")[0]
    assert (outbound.called_ae, outbound.outcome) == ("WS", "accepted")
    assert outbound.messages.filter(command="C-STORE", status=0).count() == 6


def test_getscu_retrieves_a_study_on_the_same_association(node, nodehost, ct_study, tmp_path):
    datasets, paths = ct_study
    assert (
        dcmtk("storescu", "-aec", "LENA_PACS", "+sd", "127.0.0.1", str(node.port), str(paths[0].parent)).returncode == 0
    )
    out = tmp_path / "got"
    out.mkdir()
    got = ask(
        node,
        "getscu",
        "-S",
        "-aet",
        "WS",
        "-od",
        str(out),
        keys=[
            "QueryRetrieveLevel=SERIES",
            f"StudyInstanceUID={datasets[0].StudyInstanceUID}",
            f"SeriesInstanceUID={datasets[0].SeriesInstanceUID}",
        ],
    )
    assert got.returncode == 0, got.stdout
    assert {dcmread(p).SOPInstanceUID for p in out.iterdir()} == {ds.SOPInstanceUID for ds in datasets[:3]}


def test_over_quota_the_node_answers_a700_out_of_resources(node, nodehost, ct_study):
    services.node_configure(node=node, quota_instances=4)
    wait_running(node)
    _, paths = ct_study
    result = dcmtk("storescu", "-v", "-aec", "LENA_PACS", "+sd", "127.0.0.1", str(node.port), str(paths[0].parent))
    assert "Received Store Response (Refused: OutOfResources)" in result.stdout, result.stdout
    nodehost.flush()
    assert StoredInstance.objects.filter(node=node).count() == 4
    statuses_seen = set(AssociationLog.objects.filter(node=node).values_list("messages__status", flat=True))
    assert 0xA700 in statuses_seen


def test_duplicate_policy_reject_answers_a_failure_and_keeps_the_first_copy(node, nodehost):
    services.node_configure(node=node, duplicate_policy="reject")
    wait_running(node)
    path = sample_file("CT_small.dcm")
    assert dcmtk("storescu", "-aec", "LENA_PACS", "127.0.0.1", str(node.port), path).returncode == 0
    again = dcmtk("storescu", "-v", "-aec", "LENA_PACS", "127.0.0.1", str(node.port), path)
    assert "Received Store Response (Error: CannotUnderstand)" in again.stdout, again.stdout
    nodehost.flush()
    assert StoredInstance.objects.filter(node=node).count() == 1
    refused = AssociationLog.objects.filter(node=node).order_by("-started_at")[0].messages.get()
    assert (refused.status, refused.detail) == (0xC111, "Duplicate SOP Instance refused")


def test_the_association_limit_rejects_2_3_2_local_limit_exceeded(node, nodehost):
    from pynetdicom import AE

    services.node_configure(node=node, max_associations=1)
    wait_running(node)
    ae = AE(ae_title="HOLDER")
    ae.add_requested_context("1.2.840.10008.1.1")
    held = ae.associate("127.0.0.1", node.port, ae_title="LENA_PACS")
    try:
        assert held.is_established
        result = dcmtk("echoscu", "-aec", "LENA_PACS", "127.0.0.1", str(node.port))
    finally:
        held.release()
    assert "Result: Rejected Transient, Source: Service Provider (Presentation Related)" in result.stdout
    assert "Reason: Local Limit Exceeded" in result.stdout


def test_too_many_associations_per_minute_are_rejected_as_temporary_congestion(node, nodehost):
    services.node_configure(node=node, max_associations_per_minute=2)
    wait_running(node)
    results = [dcmtk("echoscu", "-aec", "LENA_PACS", "127.0.0.1", str(node.port)) for _ in range(3)]
    assert [r.returncode == 0 for r in results] == [True, True, False]
    assert "Reason: Temporary Congestion" in results[2].stdout
    # The rejection is logged after the A-ASSOCIATE-RJ is sent: echoscu may exit first.
    rejected = wait_for(
        lambda: AssociationLog.objects.filter(node=node, outcome="rejected").first(), what="rejection logged"
    )
    assert (rejected.reject_result, rejected.reject_source, rejected.reject_reason) == (2, 3, 1)


def test_c_get_without_storage_contexts_in_the_scp_role_fails_its_sub_operations(node, nodehost, ct_study):
    from pynetdicom import AE
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelGet

    datasets, paths = ct_study
    assert (
        dcmtk("storescu", "-aec", "LENA_PACS", "+sd", "127.0.0.1", str(node.port), str(paths[0].parent)).returncode == 0
    )
    ae = AE(ae_title="NO_ROLE")
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)  # and no storage context with the SCP role
    assoc = ae.associate("127.0.0.1", node.port, ae_title="LENA_PACS")
    assert assoc.is_established
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = datasets[0].StudyInstanceUID
    responses = list(assoc.send_c_get(query, StudyRootQueryRetrieveInformationModelGet))
    assoc.release()
    final = responses[-1][0]
    assert final.Status in (0xA702, 0xB000)  # sub-operations could not be performed
    assert int(final.NumberOfFailedSuboperations) == 6


def test_reset_erases_objects_index_and_log_but_keeps_port_and_settings(node, nodehost, ct_study):
    from labs.nodes.selectors import node_storage_dir

    services.known_ae_add(node=node, ae_title="KEEP_ME", host="127.0.0.1", port=104)
    _, paths = ct_study
    send_study(node, paths)
    nodehost.flush()
    assert StoredInstance.objects.filter(node=node).count() == 6
    port = node.port
    services.node_reset(node=node)
    wait_running(node)
    assert node.port == port and node.known_aes.filter(ae_title="KEEP_ME").exists()
    assert not StoredInstance.objects.filter(node=node).exists()
    assert not AssociationLog.objects.filter(node=node).exists()
    assert list((node_storage_dir(node.pk) / "objects").glob("*.dcm")) == []
    assert dcmtk("echoscu", "-aec", "LENA_PACS", "127.0.0.1", str(port)).returncode == 0


def test_a_deleted_node_stops_listening_and_its_files_go(node, nodehost, ct_study):
    import socket

    from labs.nodes.selectors import node_storage_dir

    _, paths = ct_study
    send_study(node, paths)
    nodehost.flush()
    directory = node_storage_dir(node.pk)
    assert directory.exists()
    services.node_delete(node=node)

    def closed() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", node.port)) != 0

    wait_for(lambda: closed() and not directory.exists(), what="the port closed and the files removed")

"""Query/Retrieve: C-FIND latency (DCMTK findscu) on a node holding 10 000 instances, and C-MOVE throughput from
the node to a DCMTK storescp peer, next to Orthanc moving the same study to the same peer."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from bench.common import (
    Figure,
    Section,
    nodehost,
    nodes_delete,
    orthanc,
    pct,
    progress,
    run_tool,
    storescp,
    wait_for,
    with_peer,
)

SCU = "BENCHSCU"
STUDY_ROOT_FIND = "-S"


def _fill(node: Any, storage_dir: Path, *, studies: int, per_study: int) -> tuple[list[str], list[Any]]:
    """Files written straight into the node's store and indexed through labs.nodes.services (setup speed);
    returns the study UIDs and the CT study used for C-MOVE."""
    from labs.dicom.storage import index_file
    from labs.dicom.synthetic import study, write_into_store
    from labs.nodes import services

    uids = []
    rows = []
    for s in range(studies):
        datasets = study(
            seed=1000 + s, series=2, images=per_study // 2, size=8, patient_name=f"BENCH^PATIENT{s:03d}",
            patient_id=f"PB{s:05d}", accession=f"ACCB{s:05d}", study_date=f"2025{1 + s % 12:02d}{1 + s % 28:02d}",
        )  # fmt: skip
        uids.append(str(datasets[0].StudyInstanceUID))
        for path in write_into_store(datasets, storage_dir):
            row = index_file(path, node_id=node.pk, calling_ae=SCU)
            if row is not None:
                rows.append(row)
        if len(rows) >= 2000:
            services.instances_upsert(rows=rows)
            rows = []
    ct = study(seed=99, series=1, images=100, size=512, patient_name="BENCH^MOVE", patient_id="PBMOVE")
    for path in write_into_store(ct, storage_dir):
        row = index_file(path, node_id=node.pk, calling_ae=SCU)
        if row is not None:
            rows.append(row)
    services.instances_upsert(rows=rows)
    return uids, ct


def _find(port: int, aec: str, keys: list[str]) -> float:
    args = ["findscu", STUDY_ROOT_FIND, "-aet", SCU, "-aec", aec, "127.0.0.1", str(port)]
    for key in keys:
        args += ["-k", key]
    return run_tool(args, what="findscu") * 1000


def _move(port: int, aec: str, study_uid: str) -> float:
    return run_tool(
        ["movescu", "-S", "-aet", SCU, "-aec", aec, "-aem", "STORESCP", "-k", "QueryRetrieveLevel=STUDY",
         "-k", f"StudyInstanceUID={study_uid}", "127.0.0.1", str(port)],
        what=f"movescu via {aec}",
    )  # fmt: skip


def run(work: Path, *, quick: bool, runs: int) -> Section:
    from django.conf import settings

    from labs.nodes import services
    from labs.nodes.models import Node, NodeKind, StoredInstance
    from trainer.accounts.models import User

    user, _ = User.objects.get_or_create(username="bench-qr")
    nodes_delete(user)
    studies, per_study = (20, 100) if quick else (100, 100)
    node = services.node_create(owner=user, kind=NodeKind.LAB, ae_title="QRNODE", start=False)
    storage_dir = Path(settings.NODE_STORAGE_ROOT) / str(node.pk)
    progress(f"qr: writing and indexing {studies * per_study} + 100 instances")
    study_uids, ct = _fill(node, storage_dir, studies=studies, per_study=per_study)
    held = StoredInstance.objects.filter(node=node).count()
    ct_uid = str(ct[0].StudyInstanceUID)
    queries = {
        "study_all": ["QueryRetrieveLevel=STUDY", "PatientName=BENCH^*", "StudyInstanceUID", "StudyDate"],
        "study_by_id": ["QueryRetrieveLevel=STUDY", f"PatientID=PB{studies // 2:05d}", "StudyInstanceUID"],
        "study_dates": ["QueryRetrieveLevel=STUDY", "StudyDate=20250301-20250331", "PatientName"],
        "image_in_study": ["QueryRetrieveLevel=IMAGE", f"StudyInstanceUID={study_uids[0]}",
                           "SeriesInstanceUID", "SOPInstanceUID", "InstanceNumber"],
    }  # fmt: skip
    labels = {
        "study_all": f"C-FIND STUDY, PatientName=BENCH^* ({studies} matches)",
        "study_by_id": "C-FIND STUDY, one PatientID (1 match)",
        "study_dates": "C-FIND STUDY, StudyDate range (one month)",
        "image_in_study": f"C-FIND IMAGE in one study ({per_study} matches)",
    }
    find_p50: dict[str, list[float]] = {k: [] for k in queries}
    find_p95: dict[str, list[float]] = {k: [] for k in queries}
    move_node: list[float] = []
    move_orthanc: list[float] = []
    repeats = 5 if quick else 20
    try:
        with nodehost(work, host_id="bench-qr"), storescp(work / "qr-scp") as scp_port:
            services.known_ae_add(node=node, ae_title=SCU, host="127.0.0.1", port=104, move_destination=False)
            services.known_ae_add(node=node, ae_title="STORESCP", host="127.0.0.1", port=scp_port)
            services.node_start(node=node)
            wait_for(lambda: Node.objects.filter(pk=node.pk, status="running").exists(), timeout=120, what="node")
            node.refresh_from_db()
            modalities = {SCU: [SCU, "127.0.0.1", 104], "STORESCP": ["STORESCP", "127.0.0.1", scp_port]}
            with orthanc(work / "qr-orthanc", peers=modalities) as (_, o_port, _):
                from labs.dicom.synthetic import write_study

                ct_dir = work / "qr-ct"
                write_study(ct, ct_dir)
                run_tool(["storescu", "-aec", "ORTHANC", "+sd", "127.0.0.1", str(o_port), str(ct_dir)],
                         what="storescu → Orthanc")  # fmt: skip
                for r in range(runs):
                    progress(f"qr: run {r + 1}/{runs}")
                    for key, keys in queries.items():
                        times = [_find(node.port, node.ae_title, keys) for _ in range(repeats)]
                        find_p50[key].append(pct(times, 0.5))
                        find_p95[key].append(pct(times, 0.95))
                    pair = [("node", node.port, node.ae_title), ("orthanc", o_port, "ORTHANC")]
                    for who, port, aec in pair if r % 2 == 0 else pair[::-1]:
                        seconds = _move(port, aec, ct_uid)
                        (move_node if who == "node" else move_orthanc).append(len(ct) / seconds)
    finally:
        nodes_delete(user)
    figures = []
    for key in queries:
        p95 = Figure(f"find_{key}_p95", labels[key] + ", p95", "ms", find_p95[key])
        figures += [Figure(f"find_{key}_p50", labels[key] + ", p50", "ms", find_p50[key]), p95]
    move = with_peer(
        Figure("move_ct", "C-MOVE node → storescp, one study of 100 × 0.5 MB CT", "images/s", move_node,
               better="higher"),
        "Orthanc → the same storescp", move_orthanc,
    )  # fmt: skip
    figures.append(move)
    reading = (
        f"The node held {held} indexed instances ({studies} studies of {per_study} plus the CT study). findscu "
        "timings include starting the findscu process and the association (a few ms). "
        f"C-MOVE reads each stored file and sends it on a sub-association: {move.median:.0f} images/s against "
        f"Orthanc's {statistics.median(move_orthanc):.0f} "
        "on the same study and peer."
    )
    return Section("qr", "Query/Retrieve on a node holding 10 000 instances", figures, reading, {"instances": held})

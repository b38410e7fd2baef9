"""C-STORE ingest: DCMTK storescu (TCP_NODELAY=1, one association, `+sd`) sends the same files into a learner
node (indexed for C-FIND), DCMTK storescp, Orthanc and a bare pynetdicom SCP (the library's floor), in
alternating order, with storage on tmpfs and on disk."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    Figure,
    Section,
    bare_pynetdicom,
    nodehost,
    nodes_delete,
    orthanc,
    progress,
    run_tool,
    storescp,
    tmpfs_dir,
    wait_for,
    with_peer,
)

FULL_RUNS = 3  # each run sends both data sets to four receivers on two media
CT = "ct"  # 512 x 512 x 16 bit: 0.5 MB each
SMALL = "small"  # 140 x 140 x 16 bit: ~40 kB each


def datasets(work: Path, *, quick: bool) -> dict[str, tuple[Path, int, float]]:
    """Folder, file count and megabytes of each data set."""
    from labs.dicom.synthetic import study, write_study

    plan = {CT: (50 if quick else 200, 512, 11), SMALL: (200 if quick else 1000, 140, 12)}
    out = {}
    for name, (count, size, seed) in plan.items():
        folder = work / f"data-{name}"
        files = write_study(study(seed=int(seed), series=1, images=count, size=size), folder)
        out[name] = (folder, count, sum(f.stat().st_size for f in files) / 1e6)
    return out


def _send(folder: Path, port: int, aec: str) -> float:
    return run_tool(["storescu", "-aec", aec, "+sd", "127.0.0.1", str(port), str(folder)], what=f"storescu → {aec}")


def _to_node(user: Any, folder: Path, count: int) -> float:
    from labs.nodes import services
    from labs.nodes.models import Node, NodeKind, StoredInstance

    node = services.node_create(owner=user, kind=NodeKind.LAB, ae_title="INGEST")
    wait_for(lambda: Node.objects.filter(pk=node.pk, status="running").exists(), timeout=60, what="node running")
    node.refresh_from_db()
    started = time.perf_counter()
    _send(folder, node.port, node.ae_title)
    # "indexed for C-FIND": the time runs until every index row is committed, not only to the last C-STORE-RSP
    wait_for(lambda: StoredInstance.objects.filter(node=node).count() >= count, timeout=120, what="index rows")
    seconds = time.perf_counter() - started
    nodes_delete(user)
    return seconds


def run(work: Path, *, quick: bool, runs: int) -> Section:
    from trainer.accounts.models import User

    user, _ = User.objects.get_or_create(username="bench-ingest")
    nodes_delete(user)
    data = datasets(work, quick=quick)
    media: dict[str, Path] = {}
    shm = tmpfs_dir()
    if shm is not None:
        media["tmpfs"] = shm
    media["disk"] = Path(tempfile.mkdtemp(prefix="pt-bench-disk-", dir=ROOT / "bench" / "results"))
    times: dict[tuple[str, str, str], list[float]] = {}
    try:
        for medium, base in media.items():
            with nodehost(work, host_id=f"bench-ingest-{medium}", storage=base / "nodes"):
                for r in range(runs):
                    for name, (folder, count, _mb) in data.items():
                        progress(f"ingest: {medium} run {r + 1}/{runs} {name}")
                        order = ["node", "storescp", "orthanc", "pynetdicom"]
                        order = order[r % 4 :] + order[: r % 4]  # alternate who goes first
                        for target in order:
                            scratch = base / f"{target}-{name}-{r}"
                            if target == "node":
                                seconds = _to_node(user, folder, count)
                            elif target == "storescp":
                                with storescp(scratch) as port:
                                    seconds = _send(folder, port, "STORESCP")
                            elif target == "pynetdicom":
                                with bare_pynetdicom(scratch) as port:
                                    seconds = _send(folder, port, "BARE")
                            else:
                                with orthanc(scratch) as (_, port, _):
                                    seconds = _send(folder, port, "ORTHANC")
                            shutil.rmtree(scratch, ignore_errors=True)
                            times.setdefault((medium, name, target), []).append(count / seconds)
    finally:
        for base in media.values():
            shutil.rmtree(base, ignore_errors=True)
    figures: list[Figure] = []
    for medium in media:
        for name, (_folder, count, mb) in data.items():
            what = f"{count} × {mb / count * 1000:.0f} kB" if name == SMALL else f"{count} × {mb / count:.1f} MB CT"
            node = times[(medium, name, "node")]
            vs_scp = with_peer(
                Figure(f"ingest_{name}_{medium}", f"C-STORE into a node, {what}, {medium}", "images/s", node,
                       target=">= 0.5 × storescp", better="higher"),
                "DCMTK storescp", times[(medium, name, "storescp")],
            )  # fmt: skip
            vs_scp.met = vs_scp.ratio is not None and vs_scp.ratio >= 0.5
            vs_orthanc = with_peer(
                Figure(f"ingest_{name}_{medium}_orthanc", f"… same, against Orthanc ({medium})", "images/s", node,
                       target=">= 1 × Orthanc", better="higher"),
                "Orthanc", times[(medium, name, "orthanc")],
            )  # fmt: skip
            vs_orthanc.met = vs_orthanc.ratio is not None and vs_orthanc.ratio >= 1
            vs_floor = with_peer(
                Figure(f"ingest_{name}_{medium}_pynetdicom", f"… same, against a bare pynetdicom SCP ({medium})",
                       "images/s", node, better="higher"),
                "pynetdicom, handler writes the bytes only", times[(medium, name, "pynetdicom")],
            )  # fmt: skip
            figures += [vs_scp, vs_orthanc, vs_floor]

    def ratio(key: str) -> str:
        fig = next((f for f in figures if f.key == key), None)
        return f"{fig.ratio:.2f}×" if fig is not None and fig.ratio is not None else "—"

    medium = "tmpfs" if "tmpfs" in media else "disk"
    reading = (
        f"On {medium} the node ingests the CT series at {ratio(f'ingest_{CT}_{medium}')} storescp's rate and the "
        f"small objects at {ratio(f'ingest_{SMALL}_{medium}')}; against Orthanc it is "
        f"{ratio(f'ingest_{CT}_{medium}_orthanc')} (CT) and {ratio(f'ingest_{SMALL}_{medium}_orthanc')} (small). "
        f"A stock pynetdicom SCP that only writes the bytes it receives (bench/bare_scp.py: the floor of any "
        f"pynetdicom node) is the ceiling: the node reaches {ratio(f'ingest_{CT}_{medium}_pynetdicom')} of it "
        f"(CT) and {ratio(f'ingest_{SMALL}_{medium}_pynetdicom')} (small) while also parsing, hashing and indexing "
        "each object. "
        "The node's time runs until the last index row is committed (indexed for C-FIND), storescp only writes "
        "files, Orthanc writes files and its SQLite index. storescu sends one object at a time and waits for each "
        "response, so per-object latency, not bandwidth, sets the rate: see the profile below for where a "
        "node's time goes."
    )
    return Section(
        "ingest", "C-STORE ingest (storescu → node / storescp / Orthanc / bare pynetdicom)", figures, reading,
        {"datasets": {k: {"files": v[1], "mb": round(v[2], 1)} for k, v in data.items()}},
    )  # fmt: skip

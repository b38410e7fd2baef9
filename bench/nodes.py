"""Node host benchmark: start latency, memory per idle node, C-ECHO latency, stop time, C-STORE ingest.

Run against a scratch database (it creates and deletes its own user and nodes):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pt_bench .venv/bin/python bench/nodes.py --nodes 300

Results are medians/p95 of this run; compare the ratios, not the absolute numbers (shared, noisy machines)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trainer.settings")
PORTS = (int(os.environ.get("BENCH_PORT_LOW", 12200)), int(os.environ.get("BENCH_PORT_HIGH", 12999)))


def setup_django(storage: Path) -> None:
    os.environ["NODE_PORT_RANGE"] = f"{PORTS[0]},{PORTS[1]}"
    os.environ["NODE_STORAGE_ROOT"] = str(storage)
    os.environ["NODE_MAX_PER_LEARNER"] = "100000"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def echo_ms(port: int, called: str) -> float | None:
    from pynetdicom import AE, evt

    def nodelay(event):  # type: ignore[no-untyped-def]
        event.assoc.dul.socket.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    ae = AE(ae_title="BENCH")
    ae.add_requested_context("1.2.840.10008.1.1")
    started = time.perf_counter()
    assoc = ae.associate("127.0.0.1", port, ae_title=called, evt_handlers=[(evt.EVT_CONN_OPEN, nodelay)])
    if not assoc.is_established:
        return None
    status = assoc.send_c_echo()
    assoc.release()
    return (time.perf_counter() - started) * 1000 if status and status.Status == 0 else None


def rss_kb(pid: int) -> int:
    import psutil

    return int(psutil.Process(pid).memory_info().rss / 1024)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def wait(predicate, timeout: float = 120):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    raise SystemExit("timed out")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=300)
    parser.add_argument("--ingest", type=int, default=200, help="CT images of 512x512 for the ingest comparison")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="node-bench-"))
    setup_django(work / "nodes")
    from labs.nodes import services
    from labs.nodes.models import Node, NodeKind
    from trainer.accounts.models import User

    user, _ = User.objects.get_or_create(username="bench-learner")
    Node.objects.filter(owner=user).delete()
    env = {**os.environ, "NODE_HOST_POLL_SECONDS": "0.05", "NODE_HOST_ID": "bench", "PYTHONUNBUFFERED": "1"}
    host = subprocess.Popen(
        [sys.executable, "manage.py", "nodehost", "--worker", "--host-id", "bench"],
        cwd=ROOT, env=env, stdout=(work / "host.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    results: dict[str, object] = {"nodes": args.nodes}
    try:
        time.sleep(3)
        base_rss = rss_kb(host.pid)
        # start latency: "Start" (row created) → first C-ECHO answered, one node at a time
        latencies = []
        for i in range(20):
            started = time.perf_counter()
            node = services.node_create(owner=user, kind=NodeKind.LAB, ae_title=f"START{i}")
            wait(lambda node=node: echo_ms(node.port, node.ae_title) is not None)
            latencies.append((time.perf_counter() - started) * 1000)
        results["start_ms_median"] = round(statistics.median(latencies), 1)
        results["start_ms_p95"] = round(pct(latencies, 0.95), 1)
        # many idle nodes
        nodes = list(Node.objects.filter(owner=user))
        for i in range(args.nodes - len(nodes)):
            nodes.append(services.node_create(owner=user, kind=NodeKind.LAB, ae_title=f"IDLE{i}"))
        started = time.perf_counter()
        wait(lambda: Node.objects.filter(owner=user, status="running").count() == len(nodes), timeout=300)
        results["all_running_s"] = round(time.perf_counter() - started, 2)
        time.sleep(2)
        results["rss_per_idle_node_kb"] = round((rss_kb(host.pid) - base_rss) / len(nodes), 1)
        with ThreadPoolExecutor(max_workers=2) as pool:  # a probe, not a load test: two clients at a time
            echoes = [e for e in pool.map(lambda n: echo_ms(n.port, n.ae_title), nodes) if e is not None]
        results["echo_ok"] = len(echoes)
        results["echo_ms_median"] = round(statistics.median(echoes), 1)
        results["echo_ms_p95"] = round(pct(echoes, 0.95), 1)
        results.update(ingest(work, args.ingest, nodes[0]))
        # stop them all
        started = time.perf_counter()
        Node.objects.filter(owner=user).update(desired="stopped", revision=10_000)

        def closed() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", nodes[-1].port)) != 0

        wait(lambda: Node.objects.filter(owner=user, status="stopped").count() == len(nodes), timeout=300)
        wait(closed)
        results["stop_all_s"] = round(time.perf_counter() - started, 2)
        results["orthanc_idle_rss_kb"] = orthanc_rss(work)
    finally:
        host.terminate()
        try:
            host.wait(60)
        except subprocess.TimeoutExpired:
            print((work / "host.log").read_text()[-3000:])
            host.kill()
        Node.objects.filter(owner=user).delete()
        if not os.environ.get("KEEP"):
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=2))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ingest(work: Path, count: int, node) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """storescu of the same CT files into the node, DCMTK storescp and Orthanc (seconds, median of 3)."""
    from labs.dicom.synthetic import study, write_study

    files = write_study(study(seed=5, series=1, images=count, size=512), work / "ct")
    env = {**os.environ, "TCP_NODELAY": "1"}

    def send(port: int, aec: str) -> float:
        started = time.perf_counter()
        done = subprocess.run(
            ["storescu", "-aec", aec, "+sd", "127.0.0.1", str(port), str(files[0].parent)],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise SystemExit(f"storescu to {aec} failed: {done.stdout[-500:]} {done.stderr[-500:]}")  # fmt: skip
        return time.perf_counter() - started

    out: dict[str, object] = {"ingest_files": count, "ingest_mb": round(sum(f.stat().st_size for f in files) / 1e6, 1)}
    out["node_s"] = round(statistics.median([send(node.port, node.ae_title) for _ in range(3)]), 2)
    port = free_port()
    (work / "scp").mkdir()
    scp = subprocess.Popen(["storescp", "-od", str(work / "scp"), str(port)], env=env)
    time.sleep(0.5)
    try:
        out["storescp_s"] = round(statistics.median([send(port, "ANY") for _ in range(3)]), 2)
    finally:
        scp.terminate()
        scp.wait(10)
    orthanc = start_orthanc(work)
    if orthanc is not None:
        proc, dicom_port = orthanc
        try:
            out["orthanc_s"] = round(statistics.median([send(dicom_port, "ORTHANC") for _ in range(3)]), 2)
        finally:
            proc.terminate()
            proc.wait(20)
    out["node_vs_storescp"] = round(float(out["storescp_s"]) / float(out["node_s"]), 2)  # type: ignore[arg-type]
    if "orthanc_s" in out:
        out["node_vs_orthanc"] = round(float(out["orthanc_s"]) / float(out["node_s"]), 2)  # type: ignore[arg-type]
    return out


def start_orthanc(work: Path) -> tuple[subprocess.Popen[bytes], int] | None:
    if shutil.which("Orthanc") is None:
        return None
    dicom_port, http_port = free_port(), free_port()
    d = work / f"orthanc-{dicom_port}"
    d.mkdir()
    config = {"Name": "BENCH", "StorageDirectory": str(d / "s"), "IndexDirectory": str(d / "i"), "DicomAet": "ORTHANC",
              "DicomPort": dicom_port, "HttpPort": http_port, "RemoteAccessAllowed": False, "Plugins": []}  # fmt: skip
    (d / "o.json").write_text(json.dumps(config))
    proc = subprocess.Popen(["Orthanc", str(d / "o.json")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2)
    return proc, dicom_port


def orthanc_rss(work: Path) -> int | None:
    started = start_orthanc(work)
    if started is None:
        return None
    proc, _ = started
    try:
        time.sleep(2)
        return rss_kb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(20)


if __name__ == "__main__":
    main()

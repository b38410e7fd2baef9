"""Shared pieces of the benchmarks: Django set-up against the scratch database, statistics, figures, the
machine description, and the peers (DCMTK storescp, Orthanc, the node host) started as real processes."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Benchmark node hosts listen in NODE_PORT_RANGE; storescp / Orthanc peers take ports from PEER_PORT_BASE up.
NODE_PORT_RANGE = os.environ.get("BENCH_NODE_PORT_RANGE", "20000,23999")
PEER_PORT_BASE = int(os.environ.get("BENCH_PEER_PORT_BASE", "24000"))
_peer_next = [PEER_PORT_BASE]


@dataclass
class Figure:
    """One measured quantity: every run's value, summarised as median and spread (IQR from 4 runs, else
    min-max), with the target and the peer measured in the same run when there is one."""

    key: str
    label: str
    unit: str
    runs: list[float]
    target: str = ""  # e.g. "< 100" or ">= 0.5 x storescp"
    met: bool | None = None
    peer: str = ""
    peer_runs: list[float] = field(default_factory=list)
    ratio: float | None = None  # ours / peer, oriented so that > 1 is better for us (see better)
    better: str = "lower"  # "lower" or "higher" is better
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.runs) if self.runs else float("nan")

    @property
    def spread(self) -> tuple[str, float, float]:
        return spread(self.runs)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["median"] = self.median
        data["spread"] = dict(zip(("kind", "low", "high"), self.spread, strict=True))
        if self.peer_runs:
            data["peer_median"] = statistics.median(self.peer_runs)
        return data


def spread(values: list[float]) -> tuple[str, float, float]:
    if not values:
        return ("none", float("nan"), float("nan"))
    if len(values) >= 4:
        q = statistics.quantiles(values, n=4, method="inclusive")
        return ("IQR", q[0], q[2])
    return ("min-max", min(values), max(values))


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def with_peer(fig: Figure, peer: str, peer_runs: list[float]) -> Figure:
    """Attach the peer measured in the same run; the ratio says how many times better (>1) we are."""
    fig.peer, fig.peer_runs = peer, peer_runs
    ours, theirs = fig.median, statistics.median(peer_runs)
    if ours and theirs:
        fig.ratio = theirs / ours if fig.better == "lower" else ours / theirs
    return fig


def setup_django(*, storage: Path | None = None) -> None:
    """Point Django at the scratch database (DATABASE_URL) and migrate it."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trainer.settings")
    os.environ["NODE_PORT_RANGE"] = NODE_PORT_RANGE
    os.environ["NODE_MAX_PER_LEARNER"] = "100000"
    if storage is not None:
        os.environ["NODE_STORAGE_ROOT"] = str(storage)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import logging

    import django

    django.setup()
    logging.getLogger("pynetdicom").setLevel(logging.CRITICAL)  # refused connections while polling a start
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def nodes_delete(owner: Any) -> None:
    """Stop the owner's nodes, let the host write their last association records, then delete them (a delete
    racing a queued record fails on the foreign key, so retry once the writer has caught up)."""
    from django.db import IntegrityError

    from labs.nodes.models import Node

    nodes = Node.objects.filter(owner=owner)
    nodes.exclude(status="stopped").update(desired="stopped", revision=10_000)
    with contextlib.suppress(TimeoutError):
        wait_for(lambda: not nodes.exclude(status="stopped").exists(), timeout=120, what="nodes stopped")
    for _ in range(20):
        try:
            nodes.delete()
            return
        except IntegrityError:
            time.sleep(0.5)
    nodes.delete()


def peer_port() -> int:
    """A free loopback port at or above PEER_PORT_BASE (never in the node range)."""
    while True:
        port = _peer_next[0]
        _peer_next[0] += 1
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def wait_for(predicate: Callable[[], bool], *, timeout: float = 120, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise TimeoutError(f"timed out waiting for {what}")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def rss_kb(pid: int) -> int:
    import psutil

    return int(psutil.Process(pid).memory_info().rss / 1024)


def tmpfs_dir() -> Path | None:
    """A scratch directory on tmpfs (/dev/shm) when the machine has one."""
    shm = Path("/dev/shm")  # noqa: S108 - a scratch directory of our own, removed afterwards
    if shm.is_dir() and os.access(shm, os.W_OK):
        return Path(tempfile.mkdtemp(prefix="pt-bench-", dir=shm))
    return None


@contextmanager
def nodehost(work: Path, *, host_id: str = "bench", storage: Path | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """A real node host (`manage.py nodehost --worker`) polling fast; its log stays in the work directory."""
    env = {**os.environ, "NODE_HOST_POLL_SECONDS": "0.05", "NODE_HOST_ID": host_id, "PYTHONUNBUFFERED": "1",
           "DEBUG": "0"}  # fmt: skip
    if storage is not None:
        env["NODE_STORAGE_ROOT"] = str(storage)
    log = work / f"nodehost-{host_id}.log"
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "nodehost", "--worker", "--host-id", host_id],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        time.sleep(2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@contextmanager
def lone_node(work: Path, *, username: str, ae_title: str) -> Iterator[tuple[subprocess.Popen[bytes], Any]]:
    """One running learner node in its own node host, for the profilers: yields (host process, node)."""
    from labs.nodes import services
    from labs.nodes.models import Node, NodeKind
    from trainer.accounts.models import User

    user, _ = User.objects.get_or_create(username=username)
    nodes_delete(user)
    with nodehost(work, host_id=username) as host:
        node = services.node_create(owner=user, kind=NodeKind.LAB, ae_title=ae_title)
        wait_for(lambda: Node.objects.filter(pk=node.pk, status="running").exists(), timeout=60, what="node")
        node.refresh_from_db()
        try:
            yield host, node
        finally:
            nodes_delete(user)


@contextmanager
def _listening(args: list[str], port: int, *, what: str, timeout: float) -> Iterator[int]:
    """Run a receiver (TCP_NODELAY=1 in its environment) until the block ends; yields its port once it listens."""
    proc = subprocess.Popen(args, env={**os.environ, "TCP_NODELAY": "1"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for(lambda: port_open(port), timeout=timeout, what=what)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def storescp(directory: Path) -> contextlib.AbstractContextManager[int]:
    """DCMTK's storescp writing into directory; yields its port."""
    port = peer_port()
    directory.mkdir(parents=True, exist_ok=True)
    return _listening(["storescp", "-od", str(directory), str(port)], port, what="storescp", timeout=10)


def bare_pynetdicom(directory: Path) -> contextlib.AbstractContextManager[int]:
    """A stock pynetdicom storage SCP writing the received bytes into directory (bench/bare_scp.py); its port."""
    port = peer_port()
    script = str(ROOT / "bench" / "bare_scp.py")
    return _listening([sys.executable, script, str(directory), str(port)], port, what="bare pynetdicom", timeout=20)


@contextmanager
def orthanc(
    directory: Path, *, aet: str = "ORTHANC", peers: dict[str, list[Any]] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], int, int]]:
    """Orthanc with its storage and index in directory; yields (process, DICOM port, HTTP port)."""
    dicom_port, http_port = peer_port(), peer_port()
    directory.mkdir(parents=True, exist_ok=True)
    config = {
        "Name": "BENCH", "StorageDirectory": str(directory / "s"), "IndexDirectory": str(directory / "i"),
        "DicomAet": aet, "DicomPort": dicom_port, "HttpPort": http_port, "RemoteAccessAllowed": False,
        "Plugins": [], "DicomModalities": peers or {}, "DicomCheckCalledAet": False,
    }  # fmt: skip
    (directory / "orthanc.json").write_text(json.dumps(config))
    proc = subprocess.Popen(
        ["Orthanc", str(directory / "orthanc.json")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: port_open(dicom_port), timeout=30, what="Orthanc")
        yield proc, dicom_port, http_port
    finally:
        proc.terminate()
        proc.wait(30)


def run_tool(args: list[str], *, what: str) -> float:
    """Run a DCMTK tool with TCP_NODELAY=1; seconds it took; raise with its output if it failed."""
    started = time.perf_counter()
    done = subprocess.run(args, env={**os.environ, "TCP_NODELAY": "1"}, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stdout[-400:]} {done.stderr[-400:]}")
    return elapsed


def _version(args: list[str]) -> str:
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    lines = (out.stdout or out.stderr).strip().splitlines()
    return lines[0].strip() if lines else "unknown"


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    from importlib.metadata import PackageNotFoundError, version

    import psutil

    packages = {}
    for name in ("Django", "pydicom", "pynetdicom", "celery", "gunicorn", "psycopg", "locust", "numpy", "fsrs"):
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            packages[name] = "not installed"
    cpu_model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "cpu": cpu_model,
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
        "packages": packages,
        "dcmtk": _version(["storescp", "--version"]).replace("$", "").strip(),
        "orthanc": _version(["Orthanc", "--version"]),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "disk_free_gb": round(shutil.disk_usage(ROOT).free / 2**30, 1),
    }
    try:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("select version()")
            info["database"] = str(cursor.fetchone()[0]).split(" on ")[0]
    except Exception:
        info["database"] = "unknown"
    try:
        import redis
        from django.conf import settings

        info["redis"] = redis.Redis.from_url(settings.REDIS_URL).info("server")["redis_version"]
    except Exception:
        info["redis"] = "unknown"
    return info


@dataclass
class Section:
    """One benchmark's result: its figures, a short reading, and anything else worth keeping."""

    key: str
    title: str
    figures: list[Figure]
    reading: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "figures": [f.as_dict() for f in self.figures],
                "reading": self.reading, "details": self.details}  # fmt: skip


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

"""Fixtures and helpers for the labs (imported by the conftest files that need them): a real node host on
loopback (in this process or as `manage.py nodehost`), DCMTK, Orthanc."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from django.db import connection

from labs.nodes.models import Node, NodeStatus

ROOT = Path(__file__).resolve().parents[2]
# Node ports for the tests; a second suite on the same machine (another checkout) sets TEST_NODE_PORTS=low,high.
PORTS = tuple(int(p) for p in os.environ.get("TEST_NODE_PORTS", "12200,12999").split(",")[:2])
T = TypeVar("T")


@pytest.fixture
def node_settings(settings, tmp_path: Path):
    settings.NODE_PORT_RANGE = PORTS
    settings.NODE_STORAGE_ROOT = tmp_path / "nodes"
    settings.NODE_HOST_POLL_SECONDS = 0.05
    settings.NODE_HOST_HEARTBEAT_SECONDS = 1
    return settings


def wait_for(predicate: Callable[[], T | None], *, timeout: float = 15.0, what: str = "condition") -> T:
    """Poll until ``predicate`` is truthy (waiting is not timing: the assertion is on the outcome)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def wait_running(node: Node, timeout: float = 15.0) -> Node:
    def ready() -> bool:
        node.refresh_from_db()
        return (
            node.status == NodeStatus.RUNNING
            and node.applied_revision >= node.revision
            and (node.applied_reset_epoch >= node.reset_epoch)
        )

    wait_for(ready, timeout=timeout, what=f"node {node.pk} running (status {node.status} {node.status_detail})")
    return node


class InProcessHost:
    """The node host's reconciler running on a thread of the test process, on the test database."""

    def __init__(self, storage_root: Path) -> None:
        from labs.nodehost.host import HostOptions, NodeHostService

        self.service = NodeHostService(
            HostOptions(
                host_id="test-host",
                bind="127.0.0.1",
                public_host="127.0.0.1",
                storage_root=storage_root,
                poll_seconds=0.05,
                heartbeat_seconds=1,
            )
        )
        self.thread = threading.Thread(target=self._run, name="test-nodehost", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.service.run()
        finally:
            connection.close()

    def flush(self) -> None:
        assert self.service.backend.flush(), "node host writer did not catch up"

    def settle(self) -> None:
        """Wait until no association of any node is still open (its log record is queued when it closes), then
        flush: a DCMTK tool can exit before the node's side of the association has finished."""

        def quiet() -> bool:
            try:
                runtimes = list(self.service.state.runtimes.values())
            except RuntimeError:  # the host thread changed the dict meanwhile: look again
                return False
            return not any(rt.server is not None and rt.server.active_associations for rt in runtimes)

        wait_for(quiet, what="the nodes' associations to close")
        self.flush()

    def stop(self) -> None:
        self.service.request_stop()
        self.thread.join(30)
        assert not self.thread.is_alive(), "node host did not stop"


@pytest.fixture
def nodehost(transactional_db, node_settings) -> Iterator[InProcessHost]:
    host = InProcessHost(node_settings.NODE_STORAGE_ROOT)
    yield host
    host.stop()


def dcmtk_env() -> dict[str, str]:
    return {**os.environ, "TCP_NODELAY": "1"}


def dcmtk(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a DCMTK tool; returns the finished process with stdout+stderr in ``.stdout``."""
    tool = args[0]
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is not installed: install dcmtk (python3 manage.py testsuite does it)")
    return subprocess.run(
        list(args),
        capture_output=False,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dcmtk_env(),
        timeout=timeout,
    )


def python_exe() -> str:
    return sys.executable


class OrthancPeer:
    """A real Orthanc server (its own process and storage) on free loopback ports."""

    def __init__(self, workdir: Path, *, aet: str, modalities: dict[str, tuple[str, str, int]]) -> None:
        import json
        import socket

        if shutil.which("Orthanc") is None:
            pytest.fail("Orthanc is not installed: install the orthanc package (python3 manage.py testsuite does it)")

        def free_port() -> int:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                return int(s.getsockname()[1])

        self.aet, self.dicom_port, self.http_port = aet, free_port(), free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        config = {
            "Name": aet,
            "StorageDirectory": str(workdir / "storage"),
            "IndexDirectory": str(workdir / "index"),
            "DicomAet": aet,
            "DicomPort": self.dicom_port,
            "HttpPort": self.http_port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "DicomCheckCalledAet": True,
            "DicomModalities": {name: list(v) for name, v in modalities.items()},
            "Plugins": [],
            "StableAge": 1,
        }
        path = workdir / "orthanc.json"
        path.write_text(json.dumps(config))
        self.log = (workdir / "orthanc.log").open("wb")
        self.proc = subprocess.Popen(["Orthanc", str(path)], stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self._ready, timeout=30, what="Orthanc to answer")

    def _ready(self) -> bool:
        assert self.proc.poll() is None, "Orthanc exited; see its log"
        try:
            self.rest("/system")
        except OSError:
            return False
        return True

    def rest(self, path: str) -> object:
        import json
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{path}", timeout=5) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()


def echo_ok(port: int, called: str, calling: str = "PROBE") -> bool:
    """One C-ECHO with pynetdicom; True on Success."""
    from pynetdicom import AE

    ae = AE(ae_title=calling)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    ae.add_requested_context("1.2.840.10008.1.1")
    assoc = ae.associate("127.0.0.1", port, ae_title=called)
    if not assoc.is_established:
        return False
    try:
        status = assoc.send_c_echo()
        return bool(status) and int(status.Status) == 0
    finally:
        assoc.release()


class NodeHostProcess:
    """``manage.py nodehost`` (supervisor and worker) as real processes on the test database."""

    def __init__(self, workdir: Path, storage_root: Path, host_id: str = "proc-host") -> None:
        from tests.conftest import subprocess_env

        self.host_id = host_id
        self.env = subprocess_env(
            NODE_PORT_RANGE=f"{PORTS[0]},{PORTS[1]}",
            NODE_STORAGE_ROOT=str(storage_root),
            NODE_HOST_ID=host_id,
            NODE_HOST_POLL_SECONDS="0.1",
            NODE_HOST_HEARTBEAT_SECONDS="1",
        )
        self.log_path = workdir / f"nodehost-{host_id}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "nodehost"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def worker_pid(self) -> int | None:
        from labs.nodes.models import NodeHost

        row = NodeHost.objects.filter(host_id=self.host_id).first()
        return row.pid if row and row.detail != "stopped" else None

    def kill_all(self) -> None:
        """kill -9 the supervisor and its worker."""
        import psutil

        assert self.proc
        parent = psutil.Process(self.proc.pid)
        for p in [*parent.children(recursive=True), parent]:
            p.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill_all()
        self.log.close()

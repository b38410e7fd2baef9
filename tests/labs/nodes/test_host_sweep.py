"""The node host's start-up sweep of storage directories whose node is gone."""

from __future__ import annotations

import os
import time

from labs.nodehost.host import SWEEP_MIN_AGE_SECONDS, HostOptions, NodeHostService


def test_the_sweep_removes_old_orphans_but_not_a_node_being_created(db, tmp_path):
    old = tmp_path / "990001" / "objects"
    young = tmp_path / "990002" / "objects"  # e.g. a lab start writing preloaded studies before its commit
    for directory in (old, young):
        directory.mkdir(parents=True)
        (directory / "x.dcm").write_bytes(b"")
    past = time.time() - SWEEP_MIN_AGE_SECONDS - 60
    os.utime(old.parent, (past, past))
    host = NodeHostService(HostOptions(host_id="sweep-test", bind="127.0.0.1", public_host="127.0.0.1",
                                       storage_root=tmp_path, poll_seconds=1, heartbeat_seconds=1))  # fmt: skip
    try:
        host._sweep_deleted_nodes()
    finally:
        host.backend.close()
    assert not old.parent.exists()
    assert (young / "x.dcm").exists()

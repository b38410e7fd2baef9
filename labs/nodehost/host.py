"""The node host: one process running every node of this machine, reconciled to the database.

Each poll (NODE_HOST_POLL_SECONDS) reads which nodes should run; the host claims unowned ones (and those of a
host that stopped reporting), starts, stops, reconfigures and resets nodes, and writes a heartbeat. A node
keeps its port for life, and its files and index survive a crash: after a restart every node is checked
against its directory and missing index rows are rebuilt from the files."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connection

from labs.dicom.handlers import node_handlers
from labs.dicom.runtime import NodeConfig
from labs.dicom.server import NodeRuntime, stop_many
from labs.dicom.storage import OBJECTS_DIR, index_file
from labs.nodehost.backend import DbBackend
from labs.nodes import selectors, services
from labs.nodes.models import DesiredState, NodeStatus

logger = logging.getLogger(__name__)

RETRY_FAILED_SECONDS = 30.0
SWEEP_MIN_AGE_SECONDS = 600.0  # storage directories younger than this are never swept (see _sweep_deleted_nodes)
REAP_EVERY_SECONDS = 30.0


@dataclass
class HostOptions:
    host_id: str
    bind: str
    public_host: str
    storage_root: Path
    poll_seconds: float = 0.25
    heartbeat_seconds: float = 5.0
    parent_pid: int | None = None


@dataclass
class _Failure:
    revision: int
    at: float


@dataclass
class HostState:
    runtimes: dict[int, NodeRuntime] = field(default_factory=dict)
    failures: dict[int, _Failure] = field(default_factory=dict)


def default_options() -> HostOptions:
    return HostOptions(
        host_id=settings.NODE_HOST_ID or socket.gethostname(),
        bind=settings.NODE_HOST_BIND,
        public_host=settings.NODE_PUBLIC_HOST,
        storage_root=Path(settings.NODE_STORAGE_ROOT),
        poll_seconds=settings.NODE_HOST_POLL_SECONDS,
        heartbeat_seconds=settings.NODE_HOST_HEARTBEAT_SECONDS,
    )


class NodeHostService:
    """Runs nodes for one host id until :meth:`request_stop`."""

    def __init__(self, options: HostOptions) -> None:
        self.options = options
        self.state = HostState()
        self.backend = DbBackend()
        self.jobs = ThreadPoolExecutor(max_workers=4, thread_name_prefix="node-jobs")
        self._stop = threading.Event()
        self._started_at = datetime.now(UTC)
        self._last_heartbeat = 0.0
        self._last_reap = 0.0
        self._stale: list[str] = []

    # --- lifecycle ----------------------------------------------------------------------------------------
    def request_stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Reconcile until asked to stop (or until the supervising parent is gone), then stop every node."""
        self.options.storage_root.mkdir(parents=True, exist_ok=True)
        self._sweep_deleted_nodes()
        try:
            while not self._stop.is_set():
                if self.options.parent_pid and os.getppid() != self.options.parent_pid:
                    logger.warning("node host: supervisor %s is gone; stopping", self.options.parent_pid)
                    break
                self.tick()
                self._stop.wait(self.options.poll_seconds)
        finally:
            self.shutdown()

    def tick(self) -> None:
        """One reconciliation pass, plus the heartbeat and idle reaping when they are due."""
        try:
            close_old_connections()
            now = time.monotonic()
            if now - self._last_heartbeat >= self.options.heartbeat_seconds:
                self._stale = selectors.stale_hosts(except_host=self.options.host_id)
                self.heartbeat()
                self._last_heartbeat = now
            self.reconcile()
            if now - self._last_reap >= REAP_EVERY_SECONDS:
                reaped = services.nodes_reap_idle()
                if reaped:
                    logger.info("node host: stopping idle nodes %s", reaped)
                self._last_reap = now
        except Exception:
            logger.exception("node host: reconciliation failed; retrying")
            connection.close()

    def heartbeat(self) -> None:
        services.host_heartbeat(
            host_id=self.options.host_id,
            pid=os.getpid(),
            hostname=socket.gethostname(),
            public_host=self.options.public_host,
            started_at=self._started_at,
            node_count=len(self.state.runtimes),
        )

    def shutdown(self) -> None:
        runtimes = list(self.state.runtimes.values())
        logger.info("node host: stopping %d nodes", len(runtimes))
        stop_many(runtimes)
        self.jobs.shutdown(wait=True, cancel_futures=True)
        try:
            close_old_connections()
            services.nodes_mark_stopped(node_ids=list(self.state.runtimes), detail="the node host stopped")
            services.host_signed_off(host_id=self.options.host_id, pid=os.getpid())
        except Exception:
            logger.exception("node host: could not record the shutdown")
        self.state.runtimes.clear()
        self.backend.close()
        connection.close()

    # --- reconciliation -----------------------------------------------------------------------------------
    def reconcile(self) -> None:
        me = self.options.host_id
        wanted = selectors.nodes_wanted()
        claimable = {"", me, *self._stale}
        candidates = [w for w in wanted if w["host"] in claimable]
        to_claim = [w["pk"] for w in candidates if w["host"] != me]
        claimed = (
            set(services.nodes_claim(host_id=me, node_ids=to_claim, stale_hosts=self._stale)) if to_claim else set()
        )
        mine = {w["pk"]: w for w in candidates if w["host"] == me or w["pk"] in claimed}

        run_ids = {pk for pk, w in mine.items() if w["desired"] == DesiredState.RUNNING}
        resets = {pk for pk, w in mine.items() if w["reset_epoch"] > w["applied_reset_epoch"]}
        running = self.state.runtimes

        gone = [pk for pk in running if pk not in run_ids]
        if gone:
            self._stop_nodes(gone)
        for pk in resets:
            self._reset(pk, mine[pk]["reset_epoch"])

        now = time.monotonic()
        to_start = [
            pk
            for pk in run_ids
            if pk not in running
            and not (
                pk in self.state.failures
                and self.state.failures[pk].revision == mine[pk]["revision"]
                and now - self.state.failures[pk].at < RETRY_FAILED_SECONDS
            )
        ]
        to_update = [pk for pk in run_ids if pk in running and running[pk].config.revision != mine[pk]["revision"]]
        if not to_start and not to_update:
            return
        configs = selectors.node_configs(to_start + to_update)
        usage = selectors.usage_by_node(to_start) if to_start else {}
        for pk in to_update:
            if pk in configs:
                self._reconfigure(running[pk], configs[pk])
        for pk in to_start:
            if pk in configs:
                self._start(configs[pk], usage.get(pk, (0, 0)), mine[pk]["reset_epoch"])

    def _start(self, config: NodeConfig, usage: tuple[int, int], reset_epoch: int) -> None:
        try:
            runtime = NodeRuntime(
                config,
                self.backend,
                bind=self.options.bind,
                handlers=node_handlers,
                executor=self.jobs,
                usage=usage,
            )
            # A store that already holds objects (a lab's preloaded studies, files kept across a crash) is
            # indexed before the node answers, so its first C-FIND and the lab's first check see every object.
            indexed_first = _has_objects(config.storage_dir / OBJECTS_DIR)
            if indexed_first:
                self._verify_index(runtime)
                self.backend.flush()
            runtime.start()
        except OSError as exc:
            detail = f"cannot listen on port {config.port}: {exc.strerror or exc}"
            if exc.errno == errno.EADDRINUSE:
                detail = f"port {config.port} is already used by another program on the node host"
            logger.error("node %s: %s", config.node_id, detail)
            self.state.failures[config.node_id] = _Failure(config.revision, time.monotonic())
            services.node_mark(node_id=config.node_id, status=NodeStatus.FAILED, detail=detail)
            return
        self.state.failures.pop(config.node_id, None)
        self.state.runtimes[config.node_id] = runtime
        services.node_mark(
            node_id=config.node_id, status=NodeStatus.RUNNING, revision=config.revision, reset_epoch=reset_epoch
        )
        if not indexed_first:  # only rows whose files are gone can be wrong: drop them off the start's path
            self.jobs.submit(self._verify_index, runtime)

    def _reconfigure(self, runtime: NodeRuntime, config: NodeConfig) -> None:
        runtime.reconfigure(config)
        # the console may have deleted or rewritten stored objects: count the quota from the index again
        self.backend.flush()
        used = selectors.usage_by_node([config.node_id]).get(config.node_id, (0, 0))
        runtime.store.set_usage(*used)
        services.node_mark(node_id=config.node_id, status=NodeStatus.RUNNING, revision=config.revision)

    def _stop_nodes(self, node_ids: list[int]) -> None:
        runtimes = [self.state.runtimes.pop(pk) for pk in node_ids]
        stop_many(runtimes)
        existing = selectors.existing_node_ids(node_ids)
        services.nodes_mark_stopped(node_ids=existing)
        for pk in set(node_ids) - existing:  # deleted nodes: their files go too
            shutil.rmtree(self.options.storage_root / str(pk), ignore_errors=True)

    def _reset(self, node_id: int, epoch: int) -> None:
        """Erase a node's objects, index and log (PS3.4 has no 'reset'; this is the lab's clean slate)."""
        runtime = self.state.runtimes.pop(node_id, None)
        if runtime is not None:
            runtime.stop()
        self.backend.flush()
        shutil.rmtree(self.options.storage_root / str(node_id) / OBJECTS_DIR, ignore_errors=True)
        services.node_wipe(node_id=node_id)
        services.node_mark(node_id=node_id, status=NodeStatus.STOPPED, reset_epoch=epoch)
        # a node still wanted running is started again by this same pass, with an empty store

    def _verify_index(self, runtime: NodeRuntime) -> None:
        """At a start, make the index agree with the files (a crash can lose queued index rows)."""
        cfg = runtime.config
        objects = cfg.storage_dir / OBJECTS_DIR
        try:
            files: dict[str, Path] = {}
            for entry in os.scandir(objects):
                if entry.name.startswith(".incoming-"):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
                elif entry.name.endswith(".dcm"):
                    files[entry.name.removesuffix(".dcm")] = Path(entry.path)
            indexed = self.backend.run(lambda: selectors.index_uids(node_id=cfg.node_id))
            missing = set(files) - indexed
            # a row is stale only if its file is still absent now: objects stored while this pass ran are not
            orphans = {uid for uid in indexed - set(files) if not (objects / f"{uid}.dcm").exists()}
            for uid in missing:
                row = index_file(files[uid], node_id=cfg.node_id)
                if row is not None:
                    self.backend.record_instance(row)
            if orphans:
                self.backend.run(lambda: services.instances_delete(node_id=cfg.node_id, sop_instance_uids=orphans))
            if missing or orphans:
                logger.info(
                    "node %s: re-indexed %d files, dropped %d stale rows", cfg.node_id, len(missing), len(orphans)
                )
                runtime.store.set_usage(sum(p.stat().st_size for p in files.values()), len(files))
        except FileNotFoundError:
            return
        except Exception:
            logger.exception("node %s: index verification failed", cfg.node_id)

    def _sweep_deleted_nodes(self) -> None:
        """Remove storage directories of nodes deleted while the host was down (directories younger than
        SWEEP_MIN_AGE_SECONDS are left alone)."""
        try:
            known = selectors.all_node_ids()
            # a young directory may belong to a node whose row is not committed yet (a lab start writes its
            # preloaded studies inside the transaction that creates the node): leave it to a later sweep
            young = time.time() - SWEEP_MIN_AGE_SECONDS
            for entry in os.scandir(self.options.storage_root):
                if not (entry.is_dir() and entry.name.isdigit() and int(entry.name) not in known):
                    continue
                if entry.stat().st_mtime < young:
                    shutil.rmtree(entry.path, ignore_errors=True)
        except Exception:
            logger.exception("node host: could not sweep deleted nodes' storage")


def _has_objects(objects: Path) -> bool:
    try:
        with os.scandir(objects) as entries:
            return any(entry.name.endswith(".dcm") for entry in entries)
    except FileNotFoundError:
        return False

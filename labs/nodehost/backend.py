"""The database side of the node host: a bounded queue with one writer thread that batches index rows and
association records, and a small reader pool for C-FIND/C-MOVE/C-GET lookups.

pynetdicom starts a thread per association; if each touched the ORM, each would hold a database connection
of its own. Here the database sees at most ``readers + 1`` connections from the DICOM side, however many
associations are open."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.db import close_old_connections, connection

from labs.dicom import qr
from labs.dicom.runtime import AssociationRecord, IndexRow
from labs.nodes import selectors, services

logger = logging.getLogger(__name__)
T = TypeVar("T")

QUEUE_SIZE = 20_000
BATCH = 500
# After the first row arrives, gather what follows for this long before writing: during a C-STORE burst one
# transaction then carries tens of rows instead of one or two (each write costs a health check, a node lookup
# and a commit whatever its size). A stored instance reaches the C-FIND index at most this much later.
GATHER_SECONDS = 0.05
PUT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0


class DbBackend:
    """Implements :class:`labs.dicom.runtime.NodeBackend` on the Django ORM."""

    def __init__(self, *, readers: int = 4) -> None:
        self._queue: queue.Queue[IndexRow | AssociationRecord | None] = queue.Queue(maxsize=QUEUE_SIZE)
        self._cond = threading.Condition()
        self._enqueued = 0
        self._written = 0
        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="node-db-read")
        self._writer = threading.Thread(target=self._write_loop, name="node-db-writer", daemon=True)
        self._writer.start()

    # --- writes -------------------------------------------------------------------------------------------
    def _put(self, item: IndexRow | AssociationRecord) -> None:
        with self._cond:
            self._enqueued += 1
        try:
            self._queue.put(item, timeout=PUT_TIMEOUT)
        except queue.Full:
            logger.error("node database queue full for %ss; dropping a %s", PUT_TIMEOUT, type(item).__name__)
            with self._cond:
                self._written += 1
                self._cond.notify_all()

    def record_instance(self, row: IndexRow) -> None:
        self._put(row)

    def record_association(self, record: AssociationRecord) -> None:
        self._put(record)

    def flush(self, timeout: float = 15.0) -> bool:
        """Wait until everything queued before this call is in the database."""
        with self._cond:
            target = self._enqueued
            return self._cond.wait_for(lambda: self._written >= target, timeout=timeout)

    def _write_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                break
            batch: list[IndexRow | AssociationRecord] = [item]
            stop = False
            time.sleep(GATHER_SECONDS)  # asleep, not waiting on the queue: the storing threads wake nobody
            while len(batch) < BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._write(batch)
            if stop:
                break
        connection.close()

    def _write(self, batch: list[IndexRow | AssociationRecord]) -> None:
        rows = [b for b in batch if isinstance(b, IndexRow)]
        records = [b for b in batch if isinstance(b, AssociationRecord)]
        for attempt in range(3):
            try:
                close_old_connections()
                if rows:
                    services.instances_upsert(rows=rows)
                if records:
                    services.associations_record(records=records)
                break
            except Exception:
                logger.exception("node database write failed (attempt %d)", attempt + 1)
                connection.close()
                time.sleep(0.2 * (attempt + 1))
        with self._cond:
            self._written += len(batch)
            self._cond.notify_all()

    # --- reads --------------------------------------------------------------------------------------------
    def _read(self, fn: Callable[[], T]) -> T:
        def run() -> T:
            close_old_connections()
            try:
                return fn()
            except Exception:
                connection.close()
                raise

        return self._readers.submit(run).result(timeout=READ_TIMEOUT)

    def query_instances(self, node_id: int, filters: dict[str, str]) -> list[dict[str, Any]]:
        self.flush()
        return self._read(lambda: selectors.index_rows(node_id=node_id, filters=filters))

    def query_groups(self, node_id: int, level: str, filters: dict[str, str]) -> list[qr.Group]:
        self.flush()
        return self._read(lambda: selectors.index_groups(node_id=node_id, level=level, filters=filters))

    def worklist(self, node_id: int) -> list[dict[str, Any]]:
        return self._read(lambda: selectors.worklist_datasets(node_id=node_id))

    def usage(self, node_id: int) -> tuple[int, int]:
        self.flush()
        return self._read(lambda: selectors.usage_by_node([node_id]).get(node_id, (0, 0)))

    def run(self, fn: Callable[[], T]) -> T:
        """Run a database function on the reader pool (for the reconciler's occasional jobs)."""
        return self._read(fn)

    def close(self) -> None:
        self.flush(timeout=10)
        self._queue.put(None)
        self._writer.join(timeout=10)

        # Each reader thread closes its own connection; the barrier makes every thread take exactly one.
        workers = self._readers._max_workers
        barrier = threading.Barrier(workers)

        def close_connection() -> None:
            connection.close()
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=5)

        for _ in range(workers):
            self._readers.submit(close_connection)
        self._readers.shutdown(wait=True)

"""The small interface between the DICOM wire code and the rest of the platform.

The node host builds a :class:`NodeConfig` per node from the database and hands the node's server a
:class:`NodeBackend`; handlers never touch the ORM themselves (they run on pynetdicom's threads, one per
association, and must not open a database connection each)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from labs.dicom import qr

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

DUPLICATE_REJECT = "reject"
DUPLICATE_OVERWRITE = "overwrite"
DUPLICATE_KEEP_FIRST = "keep_first"


@dataclass(frozen=True)
class KnownPeer:
    """A remote AE the node knows (PS3.7 Annex D: an AE is addressed by title, host and port)."""

    ae_title: str
    host: str
    port: int
    may_store: bool = True
    may_find: bool = True
    may_retrieve: bool = True  # C-MOVE and C-GET requests from this AE
    move_destination: bool = True  # the node may send C-MOVE results to this AE
    may_commit: bool = True  # storage commitment requests, and the N-EVENT-REPORT back


@dataclass(frozen=True)
class Faults:
    """Misbehaviour a simulated peer is declared with (never set on a learner's own node): wait ``delay_ms``
    before answering each request, abort the association (A-ABORT, PS3.8 §7.3) when a request arrives after
    ``abort_after`` requests on it, or reject every association request with ``refuse`` =
    (result, source, reason) (A-ASSOCIATE-RJ, PS3.8 §9.3.4)."""

    delay_ms: int = 0
    abort_after: int = 0
    refuse: tuple[int, int, int] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Faults:
        unknown = set(data) - {"delay_ms", "abort_after", "refuse"}
        if unknown:
            raise ValueError(f"unknown fault(s) {sorted(unknown)}: use delay_ms, abort_after, refuse")
        delay, after = int(data.get("delay_ms", 0) or 0), int(data.get("abort_after", 0) or 0)
        if not 0 <= delay <= 20_000 or not 0 <= after <= 10_000:
            raise ValueError("delay_ms must be 0-20000 and abort_after 0-10000")
        refuse = data.get("refuse")
        if refuse is not None:
            refuse = tuple(int(v) for v in refuse)
            if len(refuse) != 3 or refuse[0] not in (1, 2) or refuse[1] not in (1, 2, 3):
                raise ValueError("refuse is [result 1|2, source 1|2|3, reason] (PS3.8 §9.3.4)")
        return cls(delay_ms=delay, abort_after=after, refuse=refuse)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.delay_ms:
            out["delay_ms"] = self.delay_ms
        if self.abort_after:
            out["abort_after"] = self.abort_after
        if self.refuse:
            out["refuse"] = list(self.refuse)
        return out


@dataclass(frozen=True)
class NodeConfig:
    node_id: int
    ae_title: str
    port: int
    storage_dir: Path
    known_peers: tuple[KnownPeer, ...] = ()
    reject_unknown_calling: bool = False
    check_calling_host: bool = False
    check_called_ae: bool = True
    max_associations: int = 4
    max_associations_per_minute: int = 600
    duplicate_policy: str = DUPLICATE_OVERWRITE
    quota_bytes: int = 512 * 1024 * 1024
    quota_instances: int = 5000
    accept_all_storage: bool = True
    sop_classes: tuple[str, ...] = ()
    transfer_syntaxes: tuple[str, ...] = ()
    allowed_networks: tuple[Network, ...] = (ipaddress.ip_network("127.0.0.0/8"),)
    revision: int = 0
    faults: Faults = Faults()

    def peer(self, ae_title: str) -> KnownPeer | None:
        """Known AE by exact title (PS3.8 §9.3.2: AE titles are compared as sent, only trailing spaces are
        insignificant)."""
        title = ae_title.rstrip(" ")
        return next((p for p in self.known_peers if p.ae_title == title), None)


@dataclass
class IndexRow:
    """One stored instance's index attributes, written after the file is in place."""

    node_id: int
    sop_instance_uid: str
    sop_class_uid: str
    transfer_syntax_uid: str
    study_instance_uid: str
    series_instance_uid: str
    relpath: str
    size: int
    pixel_hash: str
    calling_ae: str
    attrs: dict[str, Any]
    received_at: datetime


@dataclass
class DimseRecord:
    """One DIMSE request and its final response (PS3.7 §9-10)."""

    command: str  # e.g. "C-STORE"
    message_id: int
    direction: str  # "in": the peer asked the node; "out": the node asked the peer
    sop_class_uid: str = ""
    affected_uid: str = ""
    status: int | None = None
    pending: int = 0
    completed: int | None = None
    failed: int | None = None
    warning: int | None = None
    detail: str = ""
    started: float = 0.0
    ended: float = 0.0
    kept: bool = False


@dataclass
class AssociationRecord:
    """What happened on one association, from TCP connect to close (PS3.8 §7, §9)."""

    node_id: int
    direction: str  # "in" (a peer called the node) or "out" (the node called a peer)
    started_at: datetime
    peer_host: str = ""
    peer_port: int = 0
    calling_ae: str = ""
    called_ae: str = ""
    proposed: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    outcome: str = "open"  # accepted, rejected, aborted, refused, failed
    reject: tuple[int, int, int] | None = None
    ended_by: str = ""  # release, abort, peer-abort, closed, connect-failed
    detail: str = ""
    bytes_in: int = 0
    bytes_out: int = 0
    max_pdu_peer: int = 0
    messages: list[DimseRecord] = field(default_factory=list)
    dropped_messages: int = 0
    inflight: dict[tuple[str, int], DimseRecord] = field(default_factory=dict)
    finished: bool = False
    start_mono: float = 0.0
    negotiated_ms: float | None = None
    duration_ms: float | None = None


class NodeBackend(Protocol):
    """What a node's handlers need from the platform; implemented by the node host."""

    def record_instance(self, row: IndexRow) -> None:
        """Queue an index row (insert or replace by SOP Instance UID)."""

    def record_association(self, record: AssociationRecord) -> None:
        """Queue a finished association's log entry."""

    def query_instances(self, node_id: int, filters: dict[str, str]) -> list[dict[str, Any]]:
        """Index rows of the node (after every queued row is written), narrowed by exact-match ``filters`` on
        study/series/SOP instance UIDs or patient ID; each row has the index columns and ``attrs``."""
        ...

    def query_groups(self, node_id: int, level: str, filters: dict[str, str]) -> list[qr.Group]:
        """The node's patients, studies or series (``level`` above IMAGE) narrowed like ``query_instances``,
        each summarised without its rows (what C-FIND matches on)."""
        ...

    def worklist(self, node_id: int) -> list[dict[str, Any]]:
        """The node's worklist items as DICOM JSON (PS3.18 Annex F)."""
        ...

    def usage(self, node_id: int) -> tuple[int, int]:
        """(bytes, instances) stored, from the index."""
        ...


def peer_networks(values: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(v) for v in values)

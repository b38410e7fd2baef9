"""The DIMSE service handlers of a node (PS3.4), one ``handle_<service>`` per service, each bound with the
node's :class:`~labs.dicom.server.NodeRuntime`.

They run on pynetdicom's association threads, so they stay thin and never let an exception escape: every
error becomes a DICOM failure status with an Error Comment (PS3.7 §C) that the association log shows."""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset
from pynetdicom import build_role, evt
from pynetdicom.presentation import PresentationContext, build_context

from labs.dicom import catalog, qr, records, statuses
from labs.dicom.server import NodeRuntime
from labs.dicom.storage import object_path
from labs.dicom.uids import clean_uid

logger = logging.getLogger(__name__)

STORAGE_COMMITMENT_INSTANCE = "1.2.840.10008.1.20.1.1"  # well-known SOP Instance (PS3.4 §J.3.5)
MAX_SUBOP_CONTEXTS = 120


def status(code: int, comment: str = "") -> Dataset:
    """A status data set with an optional Error Comment (0000,0902), at most 64 characters (LO)."""
    ds = Dataset()
    ds.Status = code
    if comment:
        ds.ErrorComment = comment.replace("\\", "/")[:64]
    return ds


def _calling(event: Any) -> str:
    return str(event.assoc.requestor.ae_title).strip()


# --- Verification (PS3.4 Annex A) --------------------------------------------------------------------------
def handle_echo(event: Any, rt: NodeRuntime) -> int:
    """C-ECHO: always Success once the association is accepted (PS3.4 §A.4)."""
    return statuses.SUCCESS


# --- Storage (PS3.4 Annex B) -------------------------------------------------------------------------------
def handle_store(event: Any, rt: NodeRuntime) -> Dataset | int:
    """C-STORE: write the received bytes as a PS3.10 file without decoding the pixel data (PS3.4 §B.2)."""
    try:
        calling = _calling(event)
        if not rt.allowed(calling, "may_store"):
            return status(statuses.NOT_AUTHORIZED, f"{calling} may not store to this node")
        outcome = rt.store.store(
            event.encoded_dataset(include_meta=True),
            command_sop_class=str(event.request.AffectedSOPClassUID),
            command_sop_instance=str(event.request.AffectedSOPInstanceUID),
            calling_ae=calling,
        )
        return status(outcome.status, outcome.comment) if outcome.comment else outcome.status
    except Exception:
        logger.exception("node %s: C-STORE failed", rt.config.node_id)
        return status(statuses.UNABLE_TO_PROCESS, "Internal error while storing")


# --- Query (PS3.4 Annex C and K) ---------------------------------------------------------------------------
def handle_find(event: Any, rt: NodeRuntime) -> Iterator[tuple[Any, Dataset | None]]:
    """C-FIND for the patient/study root Q/R models (PS3.4 §C.4.1) and Modality Worklist (PS3.4 §K.4)."""
    try:
        calling = _calling(event)
        if not rt.allowed(calling, "may_find"):
            yield status(statuses.NOT_AUTHORIZED, f"{calling} may not query this node"), None
            return
        try:
            identifier = event.identifier
        except Exception:
            yield status(statuses.UNABLE_TO_PROCESS, "Cannot decode the query identifier"), None
            return
        model = str(event.request.AffectedSOPClassUID)
        if model == catalog.MODALITY_WORKLIST_FIND:
            items = [Dataset.from_json(item) for item in rt.backend.worklist(rt.config.node_id)]
            results = qr.worklist_matches(identifier, items)
        else:
            level = qr.query_level(identifier, patient_root=model == catalog.PATIENT_ROOT_FIND)
            filters = qr.prefilters(identifier)
            if level == qr.IMAGE:
                groups = qr.groups_from_rows(rt.backend.query_instances(rt.config.node_id, filters), level)
            else:
                groups = rt.backend.query_groups(rt.config.node_id, level, filters)
            from labs.dicom import matching

            results = [
                matching.response(identifier, m.record)
                for m in qr.find(identifier, groups, level=level, retrieve_ae=rt.config.ae_title)
            ]
        for ds in results:
            if event.is_cancelled:
                yield statuses.CANCEL, None
                return
            yield statuses.PENDING, ds
        yield statuses.SUCCESS, None
    except qr.QueryError as exc:
        yield status(statuses.IDENTIFIER_MISMATCH, str(exc)), None
    except Exception:
        logger.exception("node %s: C-FIND failed", rt.config.node_id)
        yield status(statuses.UNABLE_TO_PROCESS, "Internal error while matching"), None


# --- Retrieve (PS3.4 §C.4.2 C-MOVE, §C.4.3 C-GET) -----------------------------------------------------------
def _instances_for(event: Any, rt: NodeRuntime, patient_root: bool) -> list[dict[str, Any]]:
    identifier = event.identifier
    level = qr.query_level(identifier, patient_root=patient_root)
    rows = rt.backend.query_instances(rt.config.node_id, qr.prefilters(identifier))
    found = qr.find(identifier, qr.groups_from_rows(rows, level), level=level, retrieve_ae=rt.config.ae_title)
    return [row for m in found for row in m.rows]


def _subop_contexts(rows: list[dict[str, Any]]) -> list[PresentationContext]:
    """Contexts for the sub-operations: each SOP class with its stored transfer syntax; uncompressed objects
    offered in both uncompressed little endian syntaxes (PS3.5 §10)."""
    wanted: dict[str, set[str]] = {}
    for row in rows:
        ts = row["transfer_syntax_uid"]
        syntaxes = set(catalog.UNCOMPRESSED) if ts in (*catalog.UNCOMPRESSED, catalog.EXPLICIT_VR_BE) else {ts}
        wanted.setdefault(row["sop_class_uid"], set()).update(syntaxes)
    contexts: list[PresentationContext] = []
    for sop_class, syntaxes in sorted(wanted.items()):
        for ts in sorted(syntaxes):
            if len(contexts) < MAX_SUBOP_CONTEXTS:
                contexts.append(build_context(sop_class, ts))
    return contexts


def _read(rt: NodeRuntime, row: dict[str, Any]) -> Dataset | None:
    path = object_path(rt.config.storage_dir, row["sop_instance_uid"])
    try:
        return dcmread(path)
    except Exception:
        logger.warning("node %s: cannot read %s", rt.config.node_id, path.name)
        return None


def handle_move(event: Any, rt: NodeRuntime) -> Iterator[Any]:
    """C-MOVE: only to known AEs marked as move destinations (0xA801 otherwise), with pending responses
    carrying the sub-operation counts (PS3.4 §C.4.2.1.5)."""
    try:
        destination = str(event.request.MoveDestination).strip()
        peer = rt.config.peer(destination)
        if peer is None or not peer.move_destination:
            yield None, None  # pynetdicom answers 0xA801 Refused: Move Destination Unknown
            return
        calling = _calling(event)
        problem: Dataset | None = None
        rows: list[dict[str, Any]] = []
        if not rt.allowed(calling, "may_retrieve"):
            problem = status(statuses.NOT_AUTHORIZED, f"{calling} may not retrieve from this node")
        else:
            try:
                rows = _instances_for(event, rt, str(event.request.AffectedSOPClassUID) == catalog.PATIENT_ROOT_MOVE)
            except qr.QueryError as exc:
                problem = status(statuses.IDENTIFIER_MISMATCH, str(exc))
            except Exception:
                problem = status(statuses.UNABLE_TO_PROCESS, "Cannot decode the identifier")
        yield peer.host, peer.port, {"contexts": _subop_contexts(rows) or [build_context(catalog.VERIFICATION)]}
        if problem is not None:
            yield 1
            yield problem, None
            return
        yield len(rows)
        yield from _subops(event, rt, rows)
    except Exception:
        logger.exception("node %s: C-MOVE failed", rt.config.node_id)
        yield status(statuses.UNABLE_TO_PROCESS, "Internal error while moving"), None


def handle_get(event: Any, rt: NodeRuntime) -> Iterator[Any]:
    """C-GET: the matching objects go back on the same association as C-STORE sub-operations; the
    requester must have proposed their storage contexts with the SCP role (PS3.4 §C.4.3, PS3.7 §D.3.3.4)."""
    try:
        calling = _calling(event)
        if not rt.allowed(calling, "may_retrieve"):
            yield 1
            yield status(statuses.NOT_AUTHORIZED, f"{calling} may not retrieve from this node"), None
            return
        try:
            rows = _instances_for(event, rt, str(event.request.AffectedSOPClassUID) == catalog.PATIENT_ROOT_GET)
        except qr.QueryError as exc:
            yield 1
            yield status(statuses.IDENTIFIER_MISMATCH, str(exc)), None
            return
        yield len(rows)
        yield from _subops(event, rt, rows)
    except Exception:
        logger.exception("node %s: C-GET failed", rt.config.node_id)
        yield status(statuses.UNABLE_TO_PROCESS, "Internal error while retrieving"), None


def _subops(event: Any, rt: NodeRuntime, rows: list[dict[str, Any]]) -> Iterator[tuple[Any, Dataset | None]]:
    for row in rows:
        if event.is_cancelled:
            yield statuses.CANCEL, None
            return
        ds = _read(rt, row)
        if ds is None:
            yield status(statuses.UNABLE_TO_PROCESS, f"Stored object {row['sop_instance_uid'][:40]} unreadable"), None
            return
        yield statuses.PENDING, ds


# --- Storage Commitment Push Model (PS3.4 Annex J) ---------------------------------------------------------
def handle_commitment(event: Any, rt: NodeRuntime) -> tuple[Any, Dataset | None]:
    """N-ACTION Request Storage Commitment (Action Type 1): answered at once; the result goes back later as
    an N-EVENT-REPORT on a new association to the requester (PS3.4 §J.3.3)."""
    try:
        request = event.request
        if str(request.RequestedSOPClassUID) != catalog.STORAGE_COMMITMENT_PUSH:
            return status(statuses.SOP_CLASS_NOT_SUPPORTED), None
        if int(request.ActionTypeID) != 1:
            return status(statuses.NO_SUCH_ACTION, "Only Action Type 1 (Request Storage Commitment)"), None
        info = event.action_information
        transaction = clean_uid(info.get("TransactionUID"))
        if transaction is None:
            return status(statuses.PROCESSING_FAILURE, "Missing or invalid Transaction UID"), None
        refs = [
            (str(item.get("ReferencedSOPClassUID", "")), str(item.get("ReferencedSOPInstanceUID", "")))
            for item in info.get("ReferencedSOPSequence", [])
        ]
        rt.executor.submit(send_commitment_report, rt, _calling(event), transaction, refs)
        return statuses.SUCCESS, None
    except Exception:
        logger.exception("node %s: N-ACTION failed", rt.config.node_id)
        return status(statuses.PROCESSING_FAILURE, "Internal error"), None


def commitment_result(rt: NodeRuntime, transaction: str, refs: list[tuple[str, str]]) -> tuple[int, Dataset]:
    """Event Type 1 (all committed) or 2 (failures exist) and the event information (PS3.4 §J.3.3.1)."""
    ok, failed = [], []
    for sop_class, sop_instance in refs:
        item = Dataset()
        item.ReferencedSOPClassUID = sop_class
        item.ReferencedSOPInstanceUID = sop_instance
        uid = clean_uid(sop_instance)
        path: Path | None = object_path(rt.config.storage_dir, uid) if uid else None
        if path is None or not path.exists():
            item.FailureReason = statuses.NO_SUCH_OBJECT_INSTANCE
            failed.append(item)
            continue
        try:
            stored_class = str(dcmread(path, stop_before_pixels=True, specific_tags=["SOPClassUID"]).SOPClassUID)
        except Exception:
            stored_class = ""
        if stored_class != sop_class:
            item.FailureReason = 0x0119  # Class-instance conflict
            failed.append(item)
        else:
            ok.append(item)
    ds = Dataset()
    ds.TransactionUID = transaction
    ds.RetrieveAETitle = rt.config.ae_title
    if ok:
        ds.ReferencedSOPSequence = ok
    if failed:
        ds.FailedSOPSequence = failed
    return (2 if failed else 1), ds


def send_commitment_report(rt: NodeRuntime, requester: str, transaction: str, refs: list[tuple[str, str]]) -> None:
    """Open a new association to the requester and send the N-EVENT-REPORT (PS3.4 §J.3.3)."""
    from datetime import UTC, datetime

    from labs.dicom.runtime import AssociationRecord

    peer = rt.config.peer(requester)
    if peer is None or not peer.may_commit:
        rt.finish_record(
            AssociationRecord(
                node_id=rt.config.node_id,
                direction="out",
                started_at=datetime.now(UTC),
                calling_ae=rt.config.ae_title,
                called_ae=requester,
                outcome="refused",
                detail=f"storage commitment result for {requester} not sent: {requester} is not a known AE with "
                "host and port (and commitment allowed), so the node cannot open the association back",
            )
        )
        return
    try:
        event_type, info = commitment_result(rt, transaction, refs)
        cx = build_context(catalog.STORAGE_COMMITMENT_PUSH, list(catalog.UNCOMPRESSED))
        assoc = rt.ae.associate(
            peer.host,
            peer.port,
            contexts=[cx],
            ae_title=peer.ae_title,
            ext_neg=[build_role(catalog.STORAGE_COMMITMENT_PUSH, scp_role=True)],
        )
        if assoc.is_established:
            assoc.send_n_event_report(info, event_type, catalog.STORAGE_COMMITMENT_PUSH, STORAGE_COMMITMENT_INSTANCE)
            assoc.release()
    except Exception:
        logger.exception("node %s: N-EVENT-REPORT to %s failed", rt.config.node_id, requester)


# --- Storage Commitment results received (PS3.4 §J.3.3, the requester's side) -----------------------------
def handle_event_report(event: Any, rt: NodeRuntime) -> tuple[int, Dataset | None]:
    """N-EVENT-REPORT of a storage commitment result: acknowledged with Success (PS3.4 §J.3.3.1); the
    association log keeps the request and its status, which is what proves the result was delivered."""
    if str(event.request.AffectedSOPClassUID) != catalog.STORAGE_COMMITMENT_PUSH:
        return statuses.SOP_CLASS_NOT_SUPPORTED, None
    return statuses.SUCCESS, None


# --- Declared faults (simulated peers) ---------------------------------------------------------------------
def _requests_so_far(event: Any) -> int:
    record = records.record_of(event.assoc)
    return sum(1 for m in record.messages if m.direction == "in") if record is not None else 0


def _fault_abort(event: Any, rt: NodeRuntime) -> bool:
    """Apply the node's declared faults before a request is handled; True when the association was aborted."""
    faults = rt.config.faults
    if faults.delay_ms:
        time.sleep(faults.delay_ms / 1000)
    if faults.abort_after and _requests_so_far(event) > faults.abort_after:
        record = records.record_of(event.assoc)
        if record is not None:
            record.detail = f"declared fault: A-ABORT after {faults.abort_after} request(s) on one association"
        event.assoc.abort()
        return True
    return False


def with_faults(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a handler so the node's declared faults apply to it (generator handlers stay generators)."""
    if inspect.isgeneratorfunction(handler):

        @functools.wraps(handler)
        def generator(event: Any, rt: NodeRuntime) -> Iterator[Any]:
            if _fault_abort(event, rt):
                return
            yield from handler(event, rt)

        return generator

    @functools.wraps(handler)
    def plain(event: Any, rt: NodeRuntime) -> Any:
        if _fault_abort(event, rt):
            return statuses.UNABLE_TO_PROCESS
        return handler(event, rt)

    return plain


def node_handlers(rt: NodeRuntime) -> list[tuple[Any, ...]]:
    """The event handlers a node's server is started with (with the declared faults of a simulated peer)."""
    handlers: list[tuple[Any, Callable[..., Any]]] = [
        (evt.EVT_C_ECHO, handle_echo),
        (evt.EVT_C_STORE, handle_store),
        (evt.EVT_C_FIND, handle_find),
        (evt.EVT_C_MOVE, handle_move),
        (evt.EVT_C_GET, handle_get),
        (evt.EVT_N_ACTION, handle_commitment),
        (evt.EVT_N_EVENT_REPORT, handle_event_report),
    ]
    if rt.config.faults.delay_ms or rt.config.faults.abort_after:
        return [(event, with_faults(handler), [rt]) for event, handler in handlers]
    return [(event, handler, [rt]) for event, handler in handlers]

"""What a node does as a service user from the web console or the API: C-ECHO, C-FIND, C-MOVE and C-STORE
to one of its known AEs (PS3.4 Annexes A, B, C). Every association goes only to allowed networks, with
TCP_NODELAY and timeouts on every step, and is recorded like the node's other associations."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.presentation import build_context

from labs.dicom import catalog, records, statuses
from labs.dicom.netpolicy import DestinationRefused, Network, resolve_allowed
from labs.dicom.runtime import AssociationRecord
from labs.dicom.server import ACSE_TIMEOUT, CONNECTION_TIMEOUT, MAX_PDU_OUTBOUND, NETWORK_TIMEOUT, nodelay
from labs.dicom.storage import element_text

DIMSE_TIMEOUT = 60.0
MAX_MATCHES = 500


@dataclass(frozen=True)
class Remote:
    ae_title: str
    host: str
    port: int


@dataclass
class ScuResult:
    """What the console shows: did it work, the final status, a sentence, and what came back."""

    ok: bool
    message: str
    status: int | None = None
    matches: list[dict[str, str]] = field(default_factory=list)
    completed: int = 0
    failed: int = 0
    warning: int = 0
    record: AssociationRecord | None = None


def _open(
    *,
    node_id: int,
    calling_ae: str,
    remote: Remote,
    contexts: list[Any],
    allowed: Iterable[Network],
    ext_neg: list[Any] | None = None,
) -> tuple[Any, AssociationRecord, str]:
    """Associate, or return (None, record, reason)."""
    record = AssociationRecord(
        node_id=node_id,
        direction="out",
        started_at=datetime.now(UTC),
        peer_host=remote.host,
        peer_port=remote.port,
        calling_ae=calling_ae,
        called_ae=remote.ae_title,
        start_mono=time.monotonic(),
    )
    try:
        ip = resolve_allowed(remote.host, remote.port, tuple(allowed))
    except DestinationRefused as exc:
        record.outcome, record.detail = "refused", str(exc)
        return None, record, str(exc)
    ae = AE(ae_title=calling_ae)
    ae.acse_timeout = ACSE_TIMEOUT
    ae.dimse_timeout = DIMSE_TIMEOUT
    ae.network_timeout = NETWORK_TIMEOUT
    ae.connection_timeout = CONNECTION_TIMEOUT

    def on_open(event: Any) -> None:
        records.attach(event.assoc, record)
        nodelay(getattr(event.assoc.dul.socket, "socket", None))

    handlers: list[Any] = [(evt.EVT_CONN_OPEN, on_open), *records.LOG_HANDLERS, *records.OUTBOUND_BYTE_HANDLERS]
    assoc = ae.associate(
        ip,
        remote.port,
        contexts=contexts,
        ae_title=remote.ae_title,
        max_pdu=MAX_PDU_OUTBOUND,
        ext_neg=ext_neg,
        evt_handlers=handlers,
    )
    if assoc.is_established:
        return assoc, record, ""
    if getattr(assoc, "is_rejected", False) and not record.reject:
        records.mark_rejected(assoc, record)
    if record.outcome == "rejected" and record.reject:
        reason = f"{remote.ae_title} rejected the association: {statuses.reject_text(*record.reject)}."
    elif records.record_of(assoc) is None:  # the TCP connection itself failed (EVT_CONN_OPEN never fired)
        record.outcome, record.ended_by = "failed", "connect-failed"
        record.detail = f"connection to {remote.host}:{remote.port} refused or timed out"
        reason = (
            f"Could not connect to {remote.ae_title} at {remote.host}:{remote.port} (refused or timed out): check "
            "the host and port, and that the peer is listening."
        )
    else:
        record.outcome = "aborted"
        reason = f"{remote.ae_title} aborted or did not answer the association request."
    return None, record, reason


def _close(assoc: Any, record: AssociationRecord) -> None:
    if assoc is not None and assoc.is_established:
        assoc.release()
    if not record.ended_by:
        record.ended_by = "release" if record.outcome == "accepted" else "closed"
    record.duration_ms = round((time.monotonic() - record.start_mono) * 1000, 1)
    record.inflight.clear()


def _status_sentence(code: int) -> str:
    info = statuses.status_info(code)
    return f"{info.hex} {info.name}"


def echo(*, node_id: int, calling_ae: str, remote: Remote, allowed: Iterable[Network]) -> ScuResult:
    """C-ECHO (PS3.4 §A.4)."""
    assoc, record, reason = _open(
        node_id=node_id,
        calling_ae=calling_ae,
        remote=remote,
        contexts=[build_context(catalog.VERIFICATION)],
        allowed=allowed,
    )
    if assoc is None:
        return ScuResult(False, reason, record=record)
    try:
        rsp = assoc.send_c_echo()
        code = int(rsp.Status) if rsp and "Status" in rsp else None
    finally:
        _close(assoc, record)
    if code is None:
        return ScuResult(False, f"{remote.ae_title} did not answer the C-ECHO in time.", record=record)
    return ScuResult(code == 0, f"C-ECHO answered {_status_sentence(code)}.", status=code, record=record)


def _identifier(level: str, keys: dict[str, str], model: str) -> Dataset:
    ds = Dataset()
    if model != "worklist":
        ds.QueryRetrieveLevel = level
    for keyword, value in keys.items():
        if tag_for_keyword(keyword) is None:
            raise ValueError(f"'{keyword}' is not a DICOM keyword (for example PatientName, StudyInstanceUID)")
        try:
            setattr(ds, keyword, value)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"'{keyword}' is not a DICOM keyword or '{value}' is not a valid value ({exc})") from exc
    return ds


FIND_MODELS = {
    "study": catalog.STUDY_ROOT_FIND,
    "patient": catalog.PATIENT_ROOT_FIND,
    "worklist": catalog.MODALITY_WORKLIST_FIND,
}
MOVE_MODELS = {"study": catalog.STUDY_ROOT_MOVE, "patient": catalog.PATIENT_ROOT_MOVE}


def find(
    *,
    node_id: int,
    calling_ae: str,
    remote: Remote,
    allowed: Iterable[Network],
    level: str,
    keys: dict[str, str],
    model: str = "study",
    identifier: Dataset | None = None,
) -> ScuResult:
    """C-FIND (PS3.4 §C.4.1 / §K.4); at most MAX_MATCHES matches are kept, then the query is cancelled.
    ``identifier`` replaces ``level``/``keys`` when the query needs sequences (a worklist query)."""
    sop_class = FIND_MODELS[model]
    if identifier is None:
        identifier = _identifier(level, keys, model)
    assoc, record, reason = _open(
        node_id=node_id, calling_ae=calling_ae, remote=remote, contexts=[build_context(sop_class)], allowed=allowed
    )
    if assoc is None:
        return ScuResult(False, reason, record=record)
    matches: list[dict[str, str]] = []
    final: int | None = None
    try:
        for rsp, ds in assoc.send_c_find(identifier, sop_class):
            if not rsp or "Status" not in rsp:
                break
            code = int(rsp.Status)
            if code in (statuses.PENDING, statuses.PENDING_WARNING) and ds is not None:
                matches.append({e.keyword: element_text(e.value) for e in ds if e.keyword and e.VR != "SQ"})
                if len(matches) >= MAX_MATCHES:
                    assoc.abort()
                    break
            else:
                final = code
    finally:
        _close(assoc, record)
    if final is None:
        return ScuResult(
            False, f"The C-FIND did not finish ({len(matches)} matches so far).", matches=matches, record=record
        )
    return ScuResult(
        final == 0,
        f"C-FIND answered {_status_sentence(final)} with {len(matches)} match(es).",
        status=final,
        matches=matches,
        record=record,
    )


def move(
    *,
    node_id: int,
    calling_ae: str,
    remote: Remote,
    allowed: Iterable[Network],
    level: str,
    keys: dict[str, str],
    destination: str,
    model: str = "study",
) -> ScuResult:
    """C-MOVE (PS3.4 §C.4.2): ask ``remote`` to send the matches to ``destination`` (often the node itself)."""
    sop_class = MOVE_MODELS[model]
    identifier = _identifier(level, keys, model)
    assoc, record, reason = _open(
        node_id=node_id, calling_ae=calling_ae, remote=remote, contexts=[build_context(sop_class)], allowed=allowed
    )
    if assoc is None:
        return ScuResult(False, reason, record=record)
    result = ScuResult(False, "The C-MOVE did not finish.", record=record)
    try:
        for rsp, _ in assoc.send_c_move(identifier, destination, sop_class):
            if not rsp or "Status" not in rsp:
                break
            code = int(rsp.Status)
            result.completed = int(rsp.get("NumberOfCompletedSuboperations", result.completed) or 0)
            result.failed = int(rsp.get("NumberOfFailedSuboperations", result.failed) or 0)
            result.warning = int(rsp.get("NumberOfWarningSuboperations", result.warning) or 0)
            if code not in (statuses.PENDING, statuses.PENDING_WARNING):
                result.status = code
                result.ok = code == 0 and result.failed == 0
                result.message = (
                    f"C-MOVE answered {_status_sentence(code)}: {result.completed} sent, {result.failed} failed, "
                    f"{result.warning} with warnings."
                )
    finally:
        _close(assoc, record)
    return result


def store_one(assoc: Any, ds: Dataset, result: ScuResult, failures: list[str]) -> None:
    """C-STORE one data set on an open association, counting the outcome in ``result`` (PS3.4 §B.2.3)."""
    try:
        rsp = assoc.send_c_store(ds)
    except ValueError as exc:  # e.g. no accepted presentation context for this object
        result.failed += 1
        failures.append(str(exc).split("\n")[0][:120])
        return
    code = int(rsp.Status) if rsp and "Status" in rsp else None
    if code is None:
        result.failed += 1
        failures.append("no response (association aborted or timed out)")
    elif code == 0:
        result.completed += 1
    elif statuses.status_info(code).category == "Warning":
        result.warning += 1
    else:
        result.failed += 1
        failures.append(_status_sentence(code))


def store(*, node_id: int, calling_ae: str, remote: Remote, allowed: Iterable[Network], paths: list[Path]) -> ScuResult:
    """C-STORE each file (PS3.4 §B.2) on one association, each in its stored transfer syntax (uncompressed
    objects are offered in both little endian syntaxes)."""
    if not paths:
        return ScuResult(False, "Nothing to send.")
    metas: list[tuple[Path, str, str]] = []
    for path in paths:
        meta = dcmread(path, stop_before_pixels=True, specific_tags=["SOPClassUID"])
        metas.append((path, str(meta.SOPClassUID), str(meta.file_meta.TransferSyntaxUID)))
    wanted: dict[str, set[str]] = {}
    for _, sop_class, ts in metas:
        syntaxes = set(catalog.UNCOMPRESSED) if ts in (*catalog.UNCOMPRESSED, catalog.EXPLICIT_VR_BE) else {ts}
        wanted.setdefault(sop_class, set()).update(syntaxes)
    contexts = [build_context(c, sorted(t)) for c, t in sorted(wanted.items())][:128]
    assoc, record, reason = _open(
        node_id=node_id, calling_ae=calling_ae, remote=remote, contexts=contexts, allowed=allowed
    )
    if assoc is None:
        return ScuResult(False, reason, record=record)
    result = ScuResult(False, "", record=record)
    failures: list[str] = []
    try:
        for path, _sop_class, _ts in metas:
            store_one(assoc, dcmread(path), result, failures)
            if not assoc.is_established:
                break
    finally:
        _close(assoc, record)
    result.ok = result.failed == 0 and result.completed + result.warning == len(metas)
    result.message = f"C-STORE: {result.completed} stored, {result.warning} with warnings, {result.failed} failed."
    if failures:
        result.message += " First failure: " + failures[0]
    return result

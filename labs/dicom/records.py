"""Recording what happens on an association for the node's association log (PS3.8 §9, PS3.7 §9).

pynetdicom calls these from the association's own thread; they only touch the association's record object."""

from __future__ import annotations

import time
from typing import Any

from pynetdicom import evt

from labs.dicom.runtime import AssociationRecord, DimseRecord

MAX_MESSAGES = 200  # DIMSE rows kept per association; beyond, only failures and warnings are kept
MAX_FAILURE_MESSAGES = 200

_ATTR = "_pt_record"


def attach(assoc: Any, record: AssociationRecord) -> None:
    setattr(assoc, _ATTR, record)


def record_of(assoc: Any) -> AssociationRecord | None:
    record = getattr(assoc, _ATTR, None)
    return record if isinstance(record, AssociationRecord) else None


def command_name(message: Any) -> str:
    """'C_STORE_RQ' → ('C-STORE')."""
    name = type(message).__name__
    return name.rsplit("_", 1)[0].replace("_", "-")


def contexts_proposed(assoc: Any) -> list[dict[str, Any]]:
    primitive = getattr(assoc.requestor, "primitive", None)
    items = getattr(primitive, "presentation_context_definition_list", None) or []
    if not items and assoc.is_requestor:
        items = assoc.requestor.requested_contexts
    return [
        {"id": cx.context_id, "abstract": str(cx.abstract_syntax), "transfer": [str(t) for t in cx.transfer_syntax]}
        for cx in items
    ]


def contexts_result(assoc: Any) -> list[dict[str, Any]]:
    out = []
    for cx in list(assoc.accepted_contexts) + list(assoc.rejected_contexts):
        out.append(
            {
                "id": cx.context_id,
                "abstract": str(cx.abstract_syntax),
                "transfer": str(cx.transfer_syntax[0]) if cx.transfer_syntax and cx.result == 0 else "",
                "result": int(cx.result if cx.result is not None else 2),
            }
        )
    return sorted(out, key=lambda c: c["id"] or 0)


def on_accepted(event: Any) -> None:
    record = record_of(event.assoc)
    if record is None:
        return
    record.outcome = "accepted"
    record.calling_ae = event.assoc.requestor.ae_title
    record.called_ae = event.assoc.acceptor.ae_title if event.assoc.is_requestor else _called(event.assoc)
    record.proposed = contexts_proposed(event.assoc)
    record.accepted = contexts_result(event.assoc)
    record.max_pdu_peer = int(
        (event.assoc.requestor if event.assoc.is_acceptor else event.assoc.acceptor).maximum_length or 0
    )
    record.negotiated_ms = round((time.monotonic() - record.start_mono) * 1000, 1)


def _called(assoc: Any) -> str:
    primitive = getattr(assoc.requestor, "primitive", None)
    called = getattr(primitive, "called_ae_title", None)
    return str(called).strip() if called else assoc.acceptor.ae_title


def on_rejected(event: Any) -> None:
    """The node's own rejections are recorded by the ACSE; this catches the peer rejecting the node."""
    record = record_of(event.assoc)
    if record is not None:
        mark_rejected(event.assoc, record)


def mark_rejected(assoc: Any, record: AssociationRecord) -> None:
    """Record the peer's A-ASSOCIATE-RJ (result, source, reason; PS3.8 §9.3.4). Also called by a requester once
    ``associate()`` returns, because pynetdicom flags the association rejected before EVT_REJECTED runs."""
    record.outcome = "rejected"
    primitive = getattr(assoc.acceptor, "primitive", None)
    if record.reject is None and primitive is not None:
        record.reject = (int(primitive.result), int(primitive.result_source), int(primitive.diagnostic))


def on_released(event: Any) -> None:
    record = record_of(event.assoc)
    if record is not None and not record.ended_by:
        record.ended_by = "release"


def on_aborted(event: Any) -> None:
    record = record_of(event.assoc)
    if record is not None and not record.ended_by:
        record.ended_by = "abort"
        if record.outcome == "open":
            record.outcome = "aborted"


def on_dimse_recv(event: Any) -> None:
    _dimse(event, "recv")


def on_dimse_sent(event: Any) -> None:
    _dimse(event, "sent")


def on_data_recv(event: Any) -> None:
    record = record_of(event.assoc)
    if record is not None:
        record.bytes_in += len(event.data)


def on_data_sent(event: Any) -> None:
    record = record_of(event.assoc)
    if record is not None:
        record.bytes_out += len(event.data)


def _dimse(event: Any, way: str) -> None:
    record = record_of(event.assoc)
    if record is None:
        return
    message = event.message
    cs = message.command_set
    name = type(message).__name__
    now = time.monotonic()
    if name.endswith("_RQ"):
        # A request received by an acceptor is "in"; one the node sends is "out".
        item = DimseRecord(
            command=command_name(message),
            message_id=int(getattr(cs, "MessageID", 0) or 0),
            direction="in" if way == "recv" else "out",
            sop_class_uid=str(getattr(cs, "AffectedSOPClassUID", "") or getattr(cs, "RequestedSOPClassUID", "")),
            affected_uid=str(
                getattr(cs, "AffectedSOPInstanceUID", "") or getattr(cs, "RequestedSOPInstanceUID", "") or ""
            ),
            started=now,
        )
        if command_name(message) == "C-MOVE":
            item.detail = f"destination {str(getattr(cs, 'MoveDestination', '')).strip()}"
        record.inflight[(item.command, item.message_id)] = item
        if len(record.messages) < MAX_MESSAGES:
            item.kept = True
            record.messages.append(item)
        return
    responded = int(getattr(cs, "MessageIDBeingRespondedTo", 0) or 0)
    item_or_none = record.inflight.get((command_name(message), responded))
    if item_or_none is None:
        return
    status = int(getattr(cs, "Status", 0) or 0)
    for attr, keyword in (
        ("completed", "NumberOfCompletedSuboperations"),
        ("failed", "NumberOfFailedSuboperations"),
        ("warning", "NumberOfWarningSuboperations"),
    ):
        value = getattr(cs, keyword, None)
        if value is not None:
            setattr(item_or_none, attr, int(value))
    if status in (0xFF00, 0xFF01):
        item_or_none.pending += 1
        return
    item_or_none.status = status
    item_or_none.ended = now
    comment = getattr(cs, "ErrorComment", None)
    if comment:
        item_or_none.detail = (item_or_none.detail + "; " if item_or_none.detail else "") + str(comment)
    del record.inflight[(item_or_none.command, responded)]
    if item_or_none.kept:
        return
    if status != 0x0000 and len(record.messages) < MAX_MESSAGES + MAX_FAILURE_MESSAGES:
        item_or_none.kept = True
        record.messages.append(item_or_none)
    else:
        record.dropped_messages += 1


LOG_HANDLERS: list[tuple[Any, Any]] = [
    (evt.EVT_ACCEPTED, on_accepted),
    (evt.EVT_REJECTED, on_rejected),
    (evt.EVT_RELEASED, on_released),
    (evt.EVT_ABORTED, on_aborted),
    (evt.EVT_DIMSE_RECV, on_dimse_recv),
    (evt.EVT_DIMSE_SENT, on_dimse_sent),
]
OUTBOUND_BYTE_HANDLERS: list[tuple[Any, Any]] = [
    (evt.EVT_DATA_RECV, on_data_recv),
    (evt.EVT_DATA_SENT, on_data_sent),
]

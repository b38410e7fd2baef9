"""Plain-English explanations of association outcomes for the log, with their PS3.7/PS3.8 references."""

from __future__ import annotations

from labs.dicom import statuses
from labs.dicom.catalog import COMMON_STORAGE, SERVICE_SOP_CLASSES, sop_class_name
from labs.dicom.runtime import AssociationRecord


def explain_association(record: AssociationRecord, node_ae: str) -> tuple[str, str]:
    """(explanation, reference) for one association record."""
    who = f"{record.calling_ae or 'an unnamed AE'} at {record.peer_host or '?'}"
    if record.outcome == "rejected" and record.reject:
        result, source, reason = record.reject
        text = statuses.reject_explanation(
            result, source, reason, calling=record.calling_ae, called=record.called_ae, node_ae=node_ae
        )
        line = statuses.reject_text(result, source, reason)
        if record.direction == "out":
            return f"The peer {record.called_ae} rejected the node's association ({line}). {text}", (
                statuses.REJECT_REFERENCE
            )
        return f"Association from {who} rejected — {line}. {text}", statuses.REJECT_REFERENCE
    if record.outcome == "refused":
        return f"The node did not open the association: {record.detail}", "PS3.8 §7.1 (A-ASSOCIATE)"
    if record.outcome == "failed" and record.direction == "out":
        return (
            f"The node could not reach {record.called_ae} at {record.peer_host}:{record.peer_port}: {record.detail}. "
            "Check the host and port in the known-AE entry and that the peer is listening.",
            "PS3.8 §9.1 (TCP transport)",
        )
    if record.outcome in ("failed", "aborted") and not record.accepted:
        detail = record.detail or "the connection closed before an association was negotiated"
        return f"Connection from {who} ended without an association: {detail}.", statuses.ABORT_REFERENCE
    parts: list[str] = []
    accepted = [c for c in record.accepted if c.get("result") == 0]
    rejected = [c for c in record.accepted if c.get("result") != 0]
    if record.direction == "in":
        parts.append(f"{who} called {record.called_ae}; the node accepted the association.")
    else:
        parts.append(f"The node called {record.called_ae} at {record.peer_host}:{record.peer_port}; it accepted.")
    if record.accepted and not accepted:
        parts.append(
            "No presentation context was accepted, so no DIMSE message could be sent: the SOP class or the "
            "transfer syntaxes offered are not accepted (PS3.8 §9.3.3.2). DCMTK reports this as 'No presentation "
            "context for …'."
        )
    elif rejected:
        # storescu proposes a hundred classes; name the ones a learner most likely meant first
        common = set(COMMON_STORAGE) | set(SERVICE_SOP_CLASSES)
        rejected.sort(key=lambda c: (c["abstract"] not in common, c["id"] or 0))
        parts.append(f"{len(accepted)} of {len(record.accepted)} proposed presentation contexts were accepted.")
        names = ", ".join(
            f"{sop_class_name(c['abstract'])} ({statuses.CONTEXT_RESULTS.get(c['result'], c['result'])})"
            for c in rejected[:5]
        )
        more = f" and {len(rejected) - 5} more" if len(rejected) > 5 else ""
        parts.append(f"Rejected presentation contexts: {names}{more}.")
    failures = [m for m in record.messages if m.status not in (None, 0)]
    counts: dict[str, int] = {}
    for m in record.messages:
        counts[m.command] = counts.get(m.command, 0) + 1
    if counts:
        parts.append("Requests: " + ", ".join(f"{n} x {c}" for c, n in counts.items()) + ".")
    elif rejected and accepted:
        parts.append(
            "The peer sent no request: if it meant to send an object of a rejected class it found no presentation "
            "context for it (DCMTK: 'No presentation context for …'); accept that SOP class or transfer syntax."
        )
    for m in failures[:3]:
        info = statuses.status_info(m.status or 0)
        parts.append(f"{m.command} answered {info.hex} {info.name}: {info.explanation}")
    if record.ended_by == "release":
        parts.append("Released normally (A-RELEASE).")
    elif record.ended_by == "abort":
        parts.append(f"Aborted (A-ABORT){': ' + record.detail if record.detail else ''}.")
    elif record.ended_by:
        parts.append(f"Connection closed without a release{': ' + record.detail if record.detail else ''}.")
    if record.ended_by == "abort":
        ending = statuses.ABORT_REFERENCE
    elif record.ended_by in ("", "release"):
        ending = statuses.RELEASE_REFERENCE
    else:
        ending = statuses.CLOSED_REFERENCE
    reference = statuses.CONTEXT_REFERENCE if record.accepted and not accepted else ending
    if failures:
        reference = statuses.status_info(failures[0].status or 0).reference
    return " ".join(parts), reference

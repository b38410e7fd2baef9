"""Checks on associations and configuration: the association log, C-ECHO, active probes, known AEs, transfer
syntaxes (PS3.7, PS3.8)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from labs.dicom import catalog, scu, statuses
from labs.grading.checks.base import CheckContext, Outcome, check
from labs.nodes.models import AssociationLog, DimseLog


def _called(ctx: CheckContext, params: dict[str, Any]) -> str:
    return str(params.get("called_ae") or ctx.node.ae_title)


def _inbound(ctx: CheckContext) -> Any:
    return AssociationLog.objects.filter(node=ctx.node, direction="in", started_at__gte=ctx.since).order_by(
        "-started_at", "-id"
    )


def _describe(log: AssociationLog) -> str:
    text = f"'{log.calling_ae}' → '{log.called_ae}' from {log.peer_host or '?'} was {log.outcome}"
    if log.outcome == "rejected" and log.reject_result is not None:
        text += (
            f" (A-ASSOCIATE-RJ result {log.reject_result}, source {log.reject_source}, reason {log.reject_reason}: "
            f"{statuses.reject_text(log.reject_result, log.reject_source or 0, log.reject_reason or 0)})"
        )
    return text


@check("association_seen")
def association_seen(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """An inbound association from ``calling_ae`` to ``called_ae`` (default: the node) with ``outcome``
    (accepted/rejected) and, for a rejection, the expected ``reject: [result, source, reason]``."""
    calling = str(params["calling_ae"])
    called = _called(ctx, params)
    want = str(params.get("outcome", "accepted"))
    reject = params.get("reject")
    logs = list(_inbound(ctx).filter(calling_ae=calling)[:20])
    for log in logs:
        if log.called_ae != called or log.outcome != want:
            continue
        if reject and [log.reject_result, log.reject_source, log.reject_reason] != list(reject):
            continue
        ref = "PS3.8 §9.3.4 (A-ASSOCIATE-RJ)" if want == "rejected" else "PS3.8 §9.3.3 (A-ASSOCIATE-AC)"
        return Outcome(True, f"The association log shows {_describe(log)} at {log.started_at:%H:%M:%S} ({ref}).")
    if logs:
        seen = "; ".join(_describe(log) for log in logs[:3])
        return Outcome(False, f"No {want} association '{calling}' → '{called}' yet; the log shows: {seen}.")
    return Outcome(False, f"The node's association log has no association from calling AE '{calling}' yet.")


@check("echo_succeeded_from")
def echo_succeeded_from(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """A C-ECHO from ``calling_ae`` answered Success (0x0000, PS3.7 §9.1.5)."""
    calling = str(params["calling_ae"])
    msg = (
        DimseLog.objects.filter(
            association__node=ctx.node,
            association__direction="in",
            association__started_at__gte=ctx.since,
            association__calling_ae=calling,
            command="C-ECHO",
        )
        .select_related("association")
        .order_by("-association_id", "-seq")
    )
    ok = msg.filter(status=0).first()
    if ok:
        return Outcome(
            True,
            f"C-ECHO-RQ #{ok.message_id} from '{calling}' on association to '{ok.association.called_ae}' was answered "
            "status 0x0000 Success (PS3.7 §9.1.5).",
        )
    other = msg.first()
    if other:
        return Outcome(False, f"A C-ECHO from '{calling}' was answered 0x{other.status or 0:04X}, not Success.")
    return Outcome(False, f"No C-ECHO from calling AE '{calling}' reached the node (PS3.7 §9.1.5).")


def _probe(ctx: CheckContext, calling: str) -> scu.ScuResult:
    node = ctx.node
    remote = scu.Remote(ae_title=node.ae_title, host=ctx.host, port=node.port)
    return scu.echo(node_id=node.pk, calling_ae=calling, remote=remote, allowed=settings.NODE_ALLOWED_NETWORKS)


def _probe_text(calling: str, result: scu.ScuResult) -> str:
    record = result.record
    if record is not None and record.outcome == "rejected" and record.reject:
        return (
            f"A test association as calling AE '{calling}' was rejected: {statuses.reject_text(*record.reject)} "
            "(PS3.8 §9.3.4)."
        )
    if result.ok:
        return f"A test association as calling AE '{calling}' was accepted; C-ECHO answered Success (PS3.8 §9.3.3)."
    return f"A test association as calling AE '{calling}' failed: {result.message}"


@check("node_accepts_calling_ae")
def node_accepts_calling_ae(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """Active probe: associate with the node as ``calling_ae``; pass when accepted and echoed."""
    calling = str(params["calling_ae"])
    result = _probe(ctx, calling)
    return Outcome(result.ok, _probe_text(calling, result))


@check("node_rejects_calling_ae")
def node_rejects_calling_ae(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """Active probe: pass when the node rejects ``calling_ae`` (reason ``reason``, default 3: calling AE
    title not recognized, PS3.8 §9.3.4)."""
    calling = str(params["calling_ae"])
    reason = int(params.get("reason", 3))
    result = _probe(ctx, calling)
    record = result.record
    passed = bool(record and record.outcome == "rejected" and record.reject and record.reject[2] == reason)
    return Outcome(passed, _probe_text(calling, result))


@check("known_ae_configured")
def known_ae_configured(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """The node's configuration lists ``ae_title`` (optionally at ``host``/``port``) as a known AE."""
    title = str(params["ae_title"])
    known = ctx.node.known_aes.filter(ae_title=title).first()
    if known is None:
        near = ctx.node.known_aes.filter(ae_title__iexact=title).first()
        extra = f" ('{near.ae_title}' differs in case: AE titles are compared exactly)" if near else ""
        return Outcome(False, f"The node's known AEs have no entry titled '{title}'{extra}.")
    for key in ("host", "port"):
        if key in params and str(getattr(known, key)) != str(params[key]):
            return Outcome(False, f"Known AE '{title}' has {key} {getattr(known, key)}, expected {params[key]}.")
    return Outcome(True, f"The node knows '{known.ae_title}' at {known.host}:{known.port} (PS3.7 Annex D).")


def negotiated(ctx: CheckContext, key: str, uid: str) -> tuple[AssociationLog, dict[str, Any]] | None:
    """The newest inbound association (since the attempt started) with an accepted context whose ``key``
    ('abstract' or 'transfer') is ``uid`` (PS3.8 §9.3.3.2 result 0), and that context."""
    for log in _inbound(ctx).filter(outcome="accepted")[:50]:
        for cx in log.accepted_contexts:
            if cx.get(key) == uid and cx.get("result") == 0:
                return log, cx
    return None


@check("transfer_syntax_accepted")
def transfer_syntax_accepted(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """The node offers ``uid`` and, with ``seen: true``, an association accepted a context in it
    (PS3.8 §9.3.3.2 presentation context result 0)."""
    uid = str(params["uid"])
    if uid not in (ctx.node.transfer_syntaxes or []):
        return Outcome(False, f"The node's accepted transfer syntaxes do not include {uid}.")
    if params.get("seen"):
        found = negotiated(ctx, "transfer", uid)
        if found is not None:
            log, cx = found
            # A sender proposes many SOP classes; quote one it actually sent in this syntax, if any.
            sent = set(log.messages.values_list("sop_class_uid", flat=True))
            used = [c for c in log.accepted_contexts if c.get("transfer") == uid and c.get("result") == 0]
            cx = next((c for c in used if c.get("abstract") in sent), cx)
            abstract = str(cx.get("abstract", ""))
            return Outcome(
                True,
                f"Context {cx.get('id')} ({catalog.sop_class_name(abstract)}, {abstract}) from '{log.calling_ae}' "
                f"was accepted in {catalog.transfer_syntax_name(uid)} ({uid}) (PS3.8 §9.3.3.2).",
            )
        return Outcome(False, f"The node lists {uid} but no association has negotiated it yet.")
    return Outcome(True, f"The node's configuration accepts transfer syntax {uid} (PS3.5 §10).")

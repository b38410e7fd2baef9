"""The check catalogue: pure, DICOM-aware checks of a learner's node.

Each check reads the node's association log, stored-instance index or configuration (or, for the active
probes, opens an association to the node through :mod:`labs.dicom.scu`) and returns pass/fail, the points,
evidence quoting the facts with the PS3.7/PS3.8 reference, and a hint for a learner who failed."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings

from labs.dicom import scu, statuses, synthetic
from labs.nodes.models import AssociationLog, DimseLog, Node, StoredInstance

if TYPE_CHECKING:
    from labs.scenarios.schema import LabSpec


@dataclass(frozen=True)
class CheckContext:
    node: Node
    since: datetime
    lab: LabSpec | None = None
    host: str = "127.0.0.1"


@dataclass(frozen=True)
class Outcome:
    passed: bool
    evidence: str
    hint: str = ""
    facts: dict[str, Any] = field(default_factory=dict)


CheckFn = Callable[[CheckContext, dict[str, Any]], Outcome]
CATALOGUE: dict[str, CheckFn] = {}


def check(name: str) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        CATALOGUE[name] = fn
        return fn

    return register


def _called(ctx: CheckContext, params: dict[str, Any]) -> str:
    return str(params.get("called_ae") or ctx.node.ae_title)


def _inbound(ctx: CheckContext) -> Any:
    return AssociationLog.objects.filter(node=ctx.node, direction="in", started_at__gte=ctx.since).order_by("-id")


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


@check("transfer_syntax_accepted")
def transfer_syntax_accepted(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """The node offers ``uid`` and, with ``seen: true``, an association accepted a context in it
    (PS3.8 §9.3.3.2 presentation context result 0)."""
    uid = str(params["uid"])
    if uid not in (ctx.node.transfer_syntaxes or []):
        return Outcome(False, f"The node's accepted transfer syntaxes do not include {uid}.")
    if params.get("seen"):
        for log in _inbound(ctx).filter(outcome="accepted")[:50]:
            for cx in log.accepted_contexts:
                if cx.get("transfer") == uid and cx.get("result") == 0:
                    return Outcome(
                        True,
                        f"Context {cx.get('id')} ({cx.get('abstract')}) from '{log.calling_ae}' was accepted in "
                        f"{uid} (PS3.8 §9.3.3.2).",
                    )
        return Outcome(False, f"The node lists {uid} but no association has negotiated it yet.")
    return Outcome(True, f"The node's configuration accepts transfer syntax {uid} (PS3.5 §10).")


def expected_instances(lab: LabSpec, key: str) -> dict[str, tuple[str, str, str]]:
    """SOP Instance UID → (study UID, series UID, pixel SHA-256) of a lab's generated study."""
    spec = lab.study(key)
    out = {}
    for ds in synthetic.study(**spec.generator_kwargs()):
        pixels = hashlib.sha256(ds.PixelData).hexdigest()
        out[str(ds.SOPInstanceUID)] = (str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), pixels)
    return out


@check("study_stored")
def study_stored(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """Every instance of the lab's study ``study`` is in the node's index with the right UIDs and pixel data
    (SHA-256 of Pixel Data as received), optionally sent by ``calling_ae``."""
    if ctx.lab is None:
        raise ValueError("study_stored needs the lab")
    want = expected_instances(ctx.lab, str(params["study"]))
    rows = {r.sop_instance_uid: r for r in StoredInstance.objects.filter(node=ctx.node, sop_instance_uid__in=want)}
    missing = [uid for uid in want if uid not in rows]
    study_uid = next(iter(want.values()))[0]
    if missing:
        return Outcome(
            False,
            f"{len(rows)} of {len(want)} instances of study {study_uid} are stored; missing e.g. SOP Instance UID "
            f"{missing[0]} (C-STORE, PS3.4 §B.2).",
        )
    for uid, (study, series, pixels) in want.items():
        row = rows[uid]
        if (row.study_instance_uid, row.series_instance_uid) != (study, series):
            return Outcome(False, f"Instance {uid} is stored under other study/series UIDs than the original.")
        if row.pixel_hash and row.pixel_hash != pixels:
            return Outcome(False, f"The pixel data of instance {uid} differs from the original (SHA-256 mismatch).")
    calling = params.get("calling_ae")
    if calling and any(r.calling_ae != calling for r in rows.values()):
        senders = sorted({r.calling_ae for r in rows.values()})
        return Outcome(False, f"The study is stored but was sent by {senders}, not '{calling}'.")
    return Outcome(
        True,
        f"All {len(want)} instances of study {study_uid} are stored with matching UIDs and pixel SHA-256 "
        "(C-STORE Success, PS3.4 §B.2).",
    )


@check("move_completed")
def move_completed(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """A C-MOVE to the node ended Success with at least ``min_completed`` sub-operations (PS3.4 §C.4.2)."""
    least = int(params.get("min_completed", 1))
    msgs = DimseLog.objects.filter(
        association__node=ctx.node, association__started_at__gte=ctx.since, command="C-MOVE"
    ).order_by("-association_id", "-seq")
    for msg in msgs[:20]:
        if msg.status == 0 and (msg.completed or 0) >= least and not msg.failed:
            return Outcome(
                True, f"C-MOVE #{msg.message_id} ended 0x0000 Success with {msg.completed} completed sub-operations."
            )
    last = msgs.first()
    if last:
        return Outcome(
            False,
            f"The last C-MOVE ended 0x{last.status or 0:04X} with {last.completed or 0} completed, "
            f"{last.failed or 0} failed sub-operations (PS3.4 §C.4.2.1.6).",
        )
    return Outcome(False, "No C-MOVE reached the node since you started.")

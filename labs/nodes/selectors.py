"""Reads about nodes: what a learner may see (always through their own nodes: another learner's node is a
404), what the node host must run, and the host's health."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from labs.dicom import catalog, qr, statuses
from labs.dicom.runtime import Faults, KnownPeer, NodeConfig
from labs.nodes.models import (
    AssociationLog,
    DesiredState,
    DimseLog,
    Node,
    NodeHost,
    NodeKind,
    NodeStatus,
    StoredInstance,
)


# --- a learner's view ----------------------------------------------------------------------------------------
def nodes_of(user: Any) -> QuerySet[Node]:
    """The learner's own nodes; a lab's simulated peers are run for them but are not theirs to open."""
    return Node.objects.filter(owner_id=user.pk).exclude(kind=NodeKind.PEER).order_by("kind", "id")


def node_of(user: Any, node_id: int) -> Node:
    """The user's node, or 404 (never 403: another learner's node does not exist for you)."""
    node = nodes_of(user).filter(pk=node_id).first()
    if node is None:
        raise Http404("No such node.")
    return node


def node_storage_dir(node_id: int) -> Path:
    return Path(settings.NODE_STORAGE_ROOT) / str(node_id)


def node_usage(node: Node) -> tuple[int, int]:
    """(bytes, instances) in the node's index."""
    agg = StoredInstance.objects.filter(node=node).aggregate(size=Sum("size"), count=Count("id"))
    return int(agg["size"] or 0), int(agg["count"] or 0)


def node_public_host(node: Node) -> str:
    if node.host:
        host = NodeHost.objects.filter(host_id=node.host).values_list("public_host", flat=True).first()
        if host:
            return host
    return str(settings.NODE_PUBLIC_HOST)


@dataclass(frozen=True)
class NodeState:
    """What the console shows as the node's state, combining desired state, host report and heartbeat."""

    code: str  # running, starting, stopping, stopped, failed, host-down, resetting
    label: str
    detail: str


def node_state(node: Node, host_health: tuple[bool, str] | None = None) -> NodeState:
    host_ok, host_detail = host_health or nodehost_health()
    if node.desired == DesiredState.RUNNING:
        if not host_ok:
            return NodeState("host-down", "Waiting for the node host", host_detail)
        if node.reset_epoch > node.applied_reset_epoch:
            return NodeState("resetting", "Resetting", "Erasing stored objects and the log.")
        if node.status == NodeStatus.FAILED:
            return NodeState("failed", "Failed", node.status_detail)
        if node.status == NodeStatus.RUNNING and node.applied_revision >= node.revision:
            return NodeState("running", "Running", "Listening for associations.")
        if node.status == NodeStatus.RUNNING:
            return NodeState("running", "Running", "Applying your latest changes.")
        return NodeState("starting", "Starting", "The node host picks the node up within a second.")
    if node.status == NodeStatus.RUNNING and host_ok:
        return NodeState("stopping", "Stopping", "")
    detail = "Stopped after being idle; start it again when you need it." if node.reaped_at else ""
    return NodeState("stopped", "Stopped", detail)


def node_idle_minutes_left(node: Node) -> int | None:
    """Minutes before idle reaping when inside the warning window, else None."""
    if node.desired != DesiredState.RUNNING or node.last_activity is None:
        return None
    deadline = node.last_activity + timedelta(minutes=settings.NODE_IDLE_MINUTES)
    left = (deadline - timezone.now()).total_seconds() / 60
    if left <= settings.NODE_IDLE_WARNING_MINUTES:
        return max(0, int(left))
    return None


def node_commands(node: Node, host: str | None = None) -> list[tuple[str, str]]:
    """Ready-to-copy DCMTK commands for this node: (what it does, command)."""
    host = host or node_public_host(node)
    ae, port = node.ae_title, node.port
    return [
        ("Verify the connection (C-ECHO)", f"echoscu -v -aet MYSCU -aec {ae} {host} {port}"),
        (
            "Send a file or a whole directory (C-STORE)",
            f"storescu -v -aet MYSCU -aec {ae} +sd +r {host} {port} ./study/",
        ),
        (
            "Find studies (C-FIND, study root)",
            f"findscu -v -S -aet MYSCU -aec {ae} -k QueryRetrieveLevel=STUDY -k PatientName -k PatientID "
            f"-k StudyInstanceUID -k StudyDate -k ModalitiesInStudy {host} {port}",
        ),
        (
            "Query the worklist (C-FIND MWL)",
            f"findscu -v -W -aet MYSCU -aec {ae} -k PatientName -k PatientID -k AccessionNumber "
            f'-k "(0040,0100)[0].Modality" -k "(0040,0100)[0].ScheduledStationAETitle" {host} {port}',
        ),
        (
            "Retrieve a study to your own receiver (C-MOVE; MYSCU must be a known AE of the node)",
            f"movescu -v -S -aet MYSCU -aem MYSCU -aec {ae} --port 11113 "
            f"-k QueryRetrieveLevel=STUDY -k StudyInstanceUID=<uid> {host} {port}",
        ),
        (
            "Retrieve a study on the same association (C-GET)",
            f"getscu -v -S -aet MYSCU -aec {ae} -k QueryRetrieveLevel=STUDY -k StudyInstanceUID=<uid> {host} {port}",
        ),
    ]


@dataclass(frozen=True)
class StudySummary:
    study_instance_uid: str
    patient_name: str
    patient_id: str
    study_date: str
    study_description: str
    accession_number: str
    modalities: str
    series: int
    instances: int
    size: int
    first_instance_id: int


def node_studies(node: Node) -> list[StudySummary]:
    """The node's studies, newest first, in two queries whatever their number."""
    rows = (
        StoredInstance.objects.filter(node=node)
        .values("study_instance_uid")
        .annotate(
            patient_name=Max("patient_name"),
            patient_id=Max("patient_id"),
            study_date=Max("study_date"),
            study_description=Max("study_description"),
            accession_number=Max("accession_number"),
            series=Count("series_instance_uid", distinct=True),
            instances=Count("id"),
            size=Sum("size"),
            first=Min("id"),
        )
        .order_by("-study_date", "study_instance_uid")
    )
    modalities: dict[str, set[str]] = defaultdict(set)
    for study, modality in (
        StoredInstance.objects.filter(node=node).values_list("study_instance_uid", "modality").distinct()
    ):
        if modality:
            modalities[study].add(modality)
    return [
        StudySummary(
            study_instance_uid=r["study_instance_uid"],
            patient_name=r["patient_name"] or "",
            patient_id=r["patient_id"] or "",
            study_date=r["study_date"] or "",
            study_description=r["study_description"] or "",
            accession_number=r["accession_number"] or "",
            modalities="\\".join(sorted(modalities[r["study_instance_uid"]])),
            series=r["series"],
            instances=r["instances"],
            size=int(r["size"] or 0),
            first_instance_id=r["first"],
        )
        for r in rows
    ]


def node_study_instances(node: Node, study_instance_uid: str) -> list[StoredInstance]:
    instances = list(
        StoredInstance.objects.filter(node=node, study_instance_uid=study_instance_uid).order_by(
            "series_instance_uid", "id"
        )
    )
    if not instances:
        raise Http404("No such study on this node.")

    def key(i: StoredInstance) -> tuple[int, str, int, int]:
        return (_int(i.series_number), i.series_instance_uid, _int(i.instance_number), i.pk)

    return sorted(instances, key=key)


def _int(text: str) -> int:
    try:
        return int(float(text))
    except (TypeError, ValueError):
        return 0


def node_instance(node: Node, instance_id: int) -> StoredInstance:
    instance = StoredInstance.objects.filter(node=node, pk=instance_id).first()
    if instance is None:
        raise Http404("No such instance on this node.")
    return instance


def instance_path(instance: StoredInstance) -> Path:
    from labs.dicom.storage import object_path

    return object_path(node_storage_dir(instance.node_id), instance.sop_instance_uid)


def node_associations(node: Node, *, limit: int = 100) -> QuerySet[AssociationLog]:
    return AssociationLog.objects.filter(node=node).order_by("-started_at", "-id")[:limit]


def node_association(node: Node, association_id: int) -> tuple[AssociationLog, list[DimseLog]]:
    log = AssociationLog.objects.filter(node=node, pk=association_id).first()
    if log is None:
        raise Http404("No such association in this node's log.")
    return log, list(log.messages.order_by("seq"))


@dataclass(frozen=True)
class LadderStep:
    """One arrow of the ladder diagram: from the requester's side ("right") or the node's side ("left")."""

    arrow: str  # "to-node" or "from-node"
    label: str
    detail: str
    tone: str  # ok, fail, warn, info


def association_ladder(log: AssociationLog, messages: list[DimseLog]) -> list[LadderStep]:
    """The association as a ladder diagram (requester on one side, acceptor on the other, PS3.8 §7)."""
    inbound = log.direction == "in"
    to_acceptor, to_requester = ("to-node", "from-node") if inbound else ("from-node", "to-node")
    steps = [LadderStep(to_acceptor, "TCP connect", f"{log.peer_host}:{log.peer_port}", "info")]
    if log.outcome in ("refused",) or (log.outcome == "failed" and not log.accepted_contexts and not log.calling_ae):
        steps.append(LadderStep(to_acceptor, "no association", log.detail, "fail"))
        return steps
    proposed = len(log.proposed_contexts)
    steps.append(
        LadderStep(to_acceptor, "A-ASSOCIATE-RQ", f"{log.calling_ae} → {log.called_ae}, {proposed} contexts", "info")
    )
    if log.outcome == "rejected" and log.reject_result is not None:
        text = statuses.reject_text(log.reject_result, log.reject_source or 0, log.reject_reason or 0)
        steps.append(LadderStep(to_requester, "A-ASSOCIATE-RJ", text, "fail"))
        return steps
    if log.accepted_contexts or log.outcome == "accepted":
        ok = sum(1 for c in log.accepted_contexts if c.get("result") == 0)
        tone = "ok" if ok else "warn"
        steps.append(LadderStep(to_requester, "A-ASSOCIATE-AC", f"{ok} of {proposed} contexts accepted", tone))
    for m in messages:
        rq_dir = to_acceptor if (m.direction == "in") == inbound else to_requester
        rsp_dir = to_requester if rq_dir == to_acceptor else to_acceptor
        what = catalog.sop_class_name(m.sop_class_uid) if m.sop_class_uid else ""
        steps.append(LadderStep(rq_dir, f"{m.command}-RQ", f"#{m.message_id} {what}".strip(), "info"))
        if m.pending:
            steps.append(LadderStep(rsp_dir, f"{m.command}-RSP x{m.pending}", "Pending (0xFF00)", "info"))
        if m.status is not None:
            info = statuses.status_info(m.status)
            counts = ""
            if m.completed is not None or m.failed is not None:
                counts = f" — completed {m.completed or 0}, failed {m.failed or 0}, warning {m.warning or 0}"
            tone = {"Success": "ok", "Warning": "warn", "Cancel": "warn"}.get(info.category, "fail")
            detail = f"{info.hex} {info.name}{counts}" + (f" ({m.detail})" if m.detail else "")
            steps.append(LadderStep(rsp_dir, f"{m.command}-RSP", detail, tone))
    if log.dropped_messages:
        steps.append(LadderStep(to_acceptor, "…", f"{log.dropped_messages} more successful messages", "info"))
    if log.ended_by == "release":
        steps.append(LadderStep(to_acceptor, "A-RELEASE-RQ", "", "info"))
        steps.append(LadderStep(to_requester, "A-RELEASE-RP", "", "ok"))
    elif log.ended_by == "abort":
        steps.append(LadderStep(to_acceptor, "A-ABORT", log.detail, "fail"))
    elif log.ended_by:
        steps.append(LadderStep(to_acceptor, "TCP close", log.detail or "closed without A-RELEASE", "warn"))
    return steps


@dataclass(frozen=True)
class ContextRow:
    id: int
    abstract: str
    abstract_name: str
    proposed: str
    result: str
    accepted_syntax: str
    ok: bool


def association_contexts(log: AssociationLog) -> list[ContextRow]:
    """Proposed presentation contexts with their results (PS3.8 §9.3.2.2, §9.3.3.2)."""
    results = {c["id"]: c for c in log.accepted_contexts}
    rows = []
    for cx in log.proposed_contexts:
        res = results.get(cx["id"])
        code = res["result"] if res else None
        rows.append(
            ContextRow(
                id=cx["id"],
                abstract=cx["abstract"],
                abstract_name=catalog.sop_class_name(cx["abstract"]),
                proposed=", ".join(catalog.transfer_syntax_name(t) for t in cx["transfer"]),
                result=statuses.CONTEXT_RESULTS.get(code, "not negotiated") if code is not None else "not negotiated",
                accepted_syntax=catalog.transfer_syntax_name(res["transfer"]) if res and res.get("transfer") else "",
                ok=code == 0,
            )
        )
    return rows


def worklist_summary(item: Any) -> dict[str, str]:
    """The few worklist attributes the console lists (from the DICOM JSON)."""

    def value(data: dict[str, Any], tag: str) -> str:
        element = data.get(tag, {})
        values = element.get("Value") or [""]
        first = values[0]
        if isinstance(first, dict):
            return str(first.get("Alphabetic", ""))
        return str(first)

    ds = item.dataset
    sps = (ds.get("00400100", {}).get("Value") or [{}])[0]
    return {
        "patient_name": value(ds, "00100010"),
        "patient_id": value(ds, "00100020"),
        "accession": value(ds, "00080050"),
        "modality": value(sps, "00080060"),
        "station": value(sps, "00400001"),
        "date": value(sps, "00400002"),
        "time": value(sps, "00400003"),
        "description": value(sps, "00400007"),
    }


# --- the node host's view ------------------------------------------------------------------------------------
def host_is_stale(last_seen: Any) -> bool:
    return bool(timezone.now() - last_seen > timedelta(seconds=3 * settings.NODE_HOST_HEARTBEAT_SECONDS + 2))


def stale_hosts(*, except_host: str) -> list[str]:
    cutoff = timezone.now() - timedelta(seconds=3 * settings.NODE_HOST_HEARTBEAT_SECONDS + 2)
    live = set(
        NodeHost.objects.filter(last_seen__gte=cutoff).exclude(detail="stopped").values_list("host_id", flat=True)
    )
    used = set(Node.objects.exclude(host="").values_list("host", flat=True).distinct())
    return sorted(used - live - {except_host})


def nodes_wanted() -> list[dict[str, Any]]:
    """Nodes a host must act on: those wanted running, and those with a reset not yet carried out."""
    rows = Node.objects.filter(Q(desired=DesiredState.RUNNING) | Q(reset_epoch__gt=F("applied_reset_epoch"))).values(
        "pk", "host", "desired", "revision", "reset_epoch", "applied_reset_epoch"
    )
    return [dict(row) for row in rows]


def existing_node_ids(node_ids: list[int]) -> set[int]:
    return set(Node.objects.filter(pk__in=node_ids).values_list("pk", flat=True))


def all_node_ids() -> set[int]:
    return set(Node.objects.values_list("pk", flat=True))


def node_configs(node_ids: list[int]) -> dict[int, NodeConfig]:
    """The configuration the host runs each node with (two queries for any number of nodes)."""
    nodes = Node.objects.filter(pk__in=node_ids).prefetch_related("known_aes")
    out: dict[int, NodeConfig] = {}
    for node in nodes:
        out[node.pk] = NodeConfig(
            node_id=node.pk,
            ae_title=node.ae_title,
            port=node.port,
            storage_dir=node_storage_dir(node.pk),
            known_peers=tuple(
                KnownPeer(
                    ae_title=k.ae_title,
                    host=k.host,
                    port=k.port,
                    may_store=k.may_store,
                    may_find=k.may_find,
                    may_retrieve=k.may_retrieve,
                    move_destination=k.move_destination,
                    may_commit=k.may_commit,
                )
                for k in node.known_aes.all()
            ),
            reject_unknown_calling=node.reject_unknown_calling,
            check_calling_host=node.check_calling_host,
            check_called_ae=node.check_called_ae,
            max_associations=node.max_associations,
            max_associations_per_minute=node.max_associations_per_minute,
            duplicate_policy=node.duplicate_policy,
            quota_bytes=node.quota_bytes,
            quota_instances=node.quota_instances,
            accept_all_storage=node.accept_all_storage,
            sop_classes=tuple(node.sop_classes),
            transfer_syntaxes=tuple(node.transfer_syntaxes),
            allowed_networks=tuple(settings.NODE_ALLOWED_NETWORKS),
            revision=node.revision,
            faults=Faults.from_dict(node.faults or {}),
        )
    return out


INDEX_FIELDS = (
    "sop_instance_uid",
    "sop_class_uid",
    "transfer_syntax_uid",
    "study_instance_uid",
    "series_instance_uid",
    "attrs",
    "size",
)
_FILTER_COLUMNS = {
    "PatientID": "patient_id",
    "StudyInstanceUID": "study_instance_uid",
    "SeriesInstanceUID": "series_instance_uid",
    "SOPInstanceUID": "sop_instance_uid",
}


def _index(node_id: int, filters: dict[str, str]) -> QuerySet[StoredInstance]:
    qs = StoredInstance.objects.filter(node_id=node_id)
    for keyword, value in filters.items():
        column = _FILTER_COLUMNS.get(keyword)
        if column:
            qs = qs.filter(**{column: value})
    return qs


def index_rows(*, node_id: int, filters: dict[str, str]) -> list[dict[str, Any]]:
    return list(_index(node_id, filters).order_by("id").values(*INDEX_FIELDS))


def index_groups(*, node_id: int, level: str, filters: dict[str, str]) -> list[qr.Group]:
    """The node's patients, studies or series (``level``) summarised by the database: three queries whatever
    the number of instances, instead of every row with its attributes (``qr.groups_from_rows`` computes the
    same from rows, for the image level and for retrieves)."""
    column = qr.GROUP_COLUMN[level]
    qs = _index(node_id, filters).order_by()
    counts = {
        r[column]: r
        for r in qs.values(column).annotate(
            first=Min("id"),
            instances=Count("id"),
            series=Count("series_instance_uid", distinct=True),
            studies=Count("study_instance_uid", distinct=True),
        )
    }
    first_ids = [r["first"] for r in counts.values()]
    firsts = dict(StoredInstance.objects.filter(pk__in=first_ids).values_list("id", "attrs"))
    modalities: dict[str, set[str]] = defaultdict(set)
    sop_classes: dict[str, set[str]] = defaultdict(set)
    for key, modality, sop_class in qs.values_list(column, "modality", "sop_class_uid").distinct():
        modalities[key].add(modality)
        sop_classes[key].add(sop_class)
    return [
        qr.Group(
            key=key,
            attrs=firsts[r["first"]],
            instances=r["instances"],
            series=r["series"],
            studies=r["studies"],
            modalities=frozenset(modalities[key]) - {""},
            sop_classes=frozenset(sop_classes[key]),
        )
        for key, r in sorted(counts.items(), key=lambda kv: kv[1]["first"])
    ]


def index_uids(*, node_id: int) -> set[str]:
    return set(StoredInstance.objects.filter(node_id=node_id).values_list("sop_instance_uid", flat=True))


def worklist_datasets(*, node_id: int) -> list[dict[str, Any]]:
    from labs.nodes.models import WorklistItem

    return list(WorklistItem.objects.filter(node_id=node_id).order_by("id").values_list("dataset", flat=True))


def usage_by_node(node_ids: list[int]) -> dict[int, tuple[int, int]]:
    rows = (
        StoredInstance.objects.filter(node_id__in=node_ids)
        .values("node_id")
        .annotate(size=Sum("size"), count=Count("id"))
    )
    return {r["node_id"]: (int(r["size"] or 0), int(r["count"])) for r in rows}


def nodehost_health() -> tuple[bool, str]:
    """(ok, detail) from the freshest node host heartbeat; used by /health/. No host is only a problem when a
    node is waiting to run; a host that stopped reporting is always one."""
    host = NodeHost.objects.order_by("-last_seen").first()
    waiting = Node.objects.filter(desired=DesiredState.RUNNING).count()
    if host is None:
        if waiting:
            return False, f"no node host has reported yet and {waiting} node(s) wait to run (`manage.py nodehost`)"
        return True, "no node host has reported yet; no node is waiting to run"
    age = (timezone.now() - host.last_seen).total_seconds()
    if host.detail == "stopped":
        return not waiting, f"node host {host.host_id} stopped {int(age)} s ago; {waiting} node(s) wait to run"
    if host_is_stale(host.last_seen):
        return False, f"node host {host.host_id} (pid {host.pid}) silent for {int(age)} s"
    return True, f"node host {host.host_id} (pid {host.pid}) running {host.node_count} nodes, seen {age:.0f} s ago"

"""Writes about nodes. The web app and API change desired state here; the node host records what happened.

Every change the host must apply bumps ``Node.revision``; the host polls for revisions it has not applied."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from labs.dicom import catalog
from labs.dicom.explain import explain_association
from labs.dicom.runtime import AssociationRecord, IndexRow
from labs.nodes.models import (
    AssociationLog,
    DesiredState,
    DimseLog,
    KnownAE,
    Node,
    NodeHost,
    NodeKind,
    NodeStatus,
    StoredInstance,
    WorklistItem,
)
from trainer.accounts.models import User

MAX_QUOTA_BYTES = 4 * 1024**3
MAX_QUOTA_INSTANCES = 200_000
MAX_ASSOCIATIONS = 64
MAX_KNOWN_AES = 50
_AE_TITLE = re.compile(r"^[\x20-\x5b\x5d-\x7e]{1,16}$")  # PS3.5 §6.2 AE: default repertoire, no backslash


class NodeError(Exception):
    """A request about a node that cannot be carried out; the message is meant for the learner."""


def validate_ae_title(value: str, *, what: str = "AE title") -> str:
    """An AE title per PS3.5 §6.2: 1-16 characters of the default repertoire, no backslash or control
    characters; leading and trailing spaces are not significant. Case is kept: titles compare exactly."""
    title = (value or "").strip(" ")
    if not title or not _AE_TITLE.fullmatch(title):
        raise NodeError(
            f"{what} '{value}' is not valid: use 1-16 letters, digits, spaces or punctuation (no backslash)."
        )
    return title


def validate_host(value: str) -> str:
    host = (value or "").strip()
    if not host or len(host) > 253 or not re.fullmatch(r"[A-Za-z0-9.\-:\[\]_]+", host):
        raise NodeError(f"Host '{value}' is not a host name or IP address.")
    return host.strip("[]")


def validate_port(value: Any) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise NodeError(f"Port '{value}' is not a number.") from None
    if not 1 <= port <= 65535:
        raise NodeError(f"Port {port} is outside 1-65535.")
    return port


def allocate_port() -> int:
    """The lowest port of NODE_PORT_RANGE no node holds (a node keeps its port for life)."""
    low, high = settings.NODE_PORT_RANGE
    used = set(Node.objects.filter(port__gte=low, port__lte=high).values_list("port", flat=True))
    for port in range(low, high + 1):
        if port not in used:
            return port
    raise NodeError(f"Every port in {low}-{high} is taken: the operator must widen NODE_PORT_RANGE.")


def _default_ae_title(owner: User, kind: str) -> str:
    stem = re.sub(r"[^A-Z0-9]", "", owner.username.upper())[:10] or "LEARNER"
    return f"{stem}_{'LAB' if kind == NodeKind.LAB else 'PACS'}"


def _bump(node: Node, **changes: Any) -> None:
    Node.objects.filter(pk=node.pk).update(revision=F("revision") + 1, updated=timezone.now(), **changes)
    node.refresh_from_db()


def node_create(
    *,
    owner: User,
    kind: str = NodeKind.PERSONAL,
    name: str = "",
    lab_ref: str = "",
    ae_title: str | None = None,
    start: bool = True,
    port: int | None = None,
) -> Node:
    """Create a node with a fresh port (or ``port``, e.g. the one of the node it replaces); the node host starts it
    within its poll interval when ``start``."""
    if kind not in NodeKind.values:
        raise NodeError(f"Unknown node kind '{kind}'.")
    if kind == NodeKind.PERSONAL and Node.objects.filter(owner=owner, kind=NodeKind.PERSONAL).exists():
        raise NodeError("You already have a personal node.")
    if kind != NodeKind.PEER and (
        Node.objects.filter(owner=owner).exclude(kind=NodeKind.PEER).count() >= settings.NODE_MAX_PER_LEARNER
    ):
        raise NodeError(f"A learner may have at most {settings.NODE_MAX_PER_LEARNER} nodes; delete one first.")
    title = validate_ae_title(ae_title) if ae_title else _default_ae_title(owner, kind)
    for _ in range(5):  # two creators may pick the same free port; the unique constraint decides
        try:
            with transaction.atomic():
                return Node.objects.create(
                    owner=owner,
                    kind=kind,
                    name=name[:80],
                    lab_ref=lab_ref[:64],
                    ae_title=title,
                    port=port or allocate_port(),
                    desired=DesiredState.RUNNING if start else DesiredState.STOPPED,
                    transfer_syntaxes=list(catalog.DEFAULT_TRANSFER_SYNTAXES),
                    last_activity=timezone.now(),
                )
        except IntegrityError:
            continue
    raise NodeError("Could not allocate a port; try again.")


def node_start(*, node: Node) -> Node:
    _bump(node, desired=DesiredState.RUNNING, last_activity=timezone.now(), reaped_at=None)
    return node


def node_stop(*, node: Node) -> Node:
    _bump(node, desired=DesiredState.STOPPED)
    return node


def node_keep_alive(*, node: Node) -> Node:
    """The learner is still working: restart the idle clock."""
    Node.objects.filter(pk=node.pk).update(last_activity=timezone.now())
    node.refresh_from_db()
    return node


def node_reset(*, node: Node) -> Node:
    """Erase the node's stored objects, index and association log; configuration and port stay. The node
    host does the erasing (it owns the files) and restarts the node if it was running."""
    _bump(node, reset_epoch=F("reset_epoch") + 1, last_activity=timezone.now())
    return node


def node_delete(*, node: Node) -> None:
    """Delete a node; the host stops it on its next poll. Its files are removed by the host's sweep.
    The row is locked first: the host's log writer cannot then add a row for it between the cascade's reads and
    the delete (its insert waits, then finds the node gone and drops the record)."""
    with transaction.atomic():
        if Node.objects.select_for_update().filter(pk=node.pk).exists():
            node.delete()


CONFIG_FIELDS = (
    "name",
    "ae_title",
    "reject_unknown_calling",
    "check_calling_host",
    "check_called_ae",
    "max_associations",
    "max_associations_per_minute",
    "duplicate_policy",
    "quota_bytes",
    "quota_instances",
    "accept_all_storage",
    "sop_classes",
    "transfer_syntaxes",
)


def node_configure(*, node: Node, **changes: Any) -> Node:
    """Change the node's configuration; a running node applies it to new associations at once."""
    unknown = set(changes) - set(CONFIG_FIELDS)
    if unknown:
        raise NodeError(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "ae_title":
            clean[key] = validate_ae_title(value)
        elif key == "name":
            clean[key] = str(value)[:80]
        elif key in ("reject_unknown_calling", "check_calling_host", "check_called_ae", "accept_all_storage"):
            clean[key] = bool(value)
        elif key == "max_associations":
            clean[key] = _bounded_int(value, 1, MAX_ASSOCIATIONS, "The association limit")
        elif key == "max_associations_per_minute":
            clean[key] = _bounded_int(value, 0, 100_000, "The associations-per-minute limit")
        elif key == "quota_bytes":
            clean[key] = _bounded_int(value, 0, MAX_QUOTA_BYTES, "The byte quota")
        elif key == "quota_instances":
            clean[key] = _bounded_int(value, 0, MAX_QUOTA_INSTANCES, "The instance quota")
        elif key == "duplicate_policy":
            from labs.nodes.models import DuplicatePolicy

            if value not in DuplicatePolicy.values:
                raise NodeError(f"Duplicate policy must be one of {', '.join(DuplicatePolicy.values)}.")
            clean[key] = value
        elif key == "sop_classes":
            uids = _uid_list(value, "SOP class")
            bad = [u for u in uids if u not in catalog.STORAGE_SOP_CLASSES]
            if bad:
                raise NodeError(f"Not a storage SOP class: {', '.join(bad[:3])}.")
            clean[key] = uids
        elif key == "transfer_syntaxes":
            uids = _uid_list(value, "transfer syntax")
            bad = [u for u in uids if u not in catalog.TRANSFER_SYNTAX_NAMES]
            if bad:
                raise NodeError(f"Not a transfer syntax the node supports: {', '.join(bad[:3])}.")
            if not uids:
                raise NodeError("Accept at least one transfer syntax (Implicit VR Little Endian is the default).")
            clean[key] = uids
    final_all = clean.get("accept_all_storage", node.accept_all_storage)
    final_classes = clean.get("sop_classes", node.sop_classes)
    if not final_all and not final_classes:
        raise NodeError("Accept at least one storage SOP class, or tick 'accept every storage SOP class'.")
    if clean:
        _bump(node, **clean)
    return node


def node_faults_set(*, node: Node, faults: dict[str, Any]) -> Node:
    """Give a (simulated peer) node the faults its wire code applies: ``delay_ms`` before each answer,
    ``abort_after`` DIMSE requests per association then A-ABORT, ``refuse`` every association with the
    A-ASSOCIATE-RJ ``[result, source, reason]`` (PS3.8 §9.3.4)."""
    from labs.dicom.runtime import Faults

    try:
        clean = Faults.from_dict(faults).to_dict()
    except ValueError as exc:
        raise NodeError(str(exc)) from exc
    _bump(node, faults=clean)
    return node


def _bounded_int(value: Any, low: int, high: int, what: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise NodeError(f"{what} must be a whole number.") from None
    if not low <= number <= high:
        raise NodeError(f"{what} must be between {low} and {high}.")
    return number


def _uid_list(value: Any, what: str) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise NodeError(f"Give the {what} UIDs as a list of strings.")
    return list(dict.fromkeys(v.strip() for v in value if v.strip()))


# --- known AEs -----------------------------------------------------------------------------------------------
KNOWN_AE_FLAGS = ("may_store", "may_find", "may_retrieve", "move_destination", "may_commit")


def known_ae_add(*, node: Node, ae_title: str, host: str, port: Any, description: str = "", **flags: bool) -> KnownAE:
    if node.known_aes.count() >= MAX_KNOWN_AES:
        raise NodeError(f"A node may know at most {MAX_KNOWN_AES} AEs.")
    title = validate_ae_title(ae_title)
    if node.known_aes.filter(ae_title=title).exists():
        raise NodeError(f"The node already knows an AE titled '{title}'.")
    unknown = set(flags) - set(KNOWN_AE_FLAGS)
    if unknown:
        raise NodeError(f"Unknown permission(s): {', '.join(sorted(unknown))}.")
    known = KnownAE.objects.create(
        node=node,
        ae_title=title,
        host=validate_host(host),
        port=validate_port(port),
        description=description[:120],
        **{k: bool(v) for k, v in flags.items()},
    )
    _bump(node)
    return known


def known_ae_update(*, known: KnownAE, **changes: Any) -> KnownAE:
    for key, value in changes.items():
        if key == "ae_title":
            title = validate_ae_title(value)
            if known.node.known_aes.filter(ae_title=title).exclude(pk=known.pk).exists():
                raise NodeError(f"The node already knows an AE titled '{title}'.")
            known.ae_title = title
        elif key == "host":
            known.host = validate_host(value)
        elif key == "port":
            known.port = validate_port(value)
        elif key == "description":
            known.description = str(value)[:120]
        elif key in KNOWN_AE_FLAGS:
            setattr(known, key, bool(value))
        else:
            raise NodeError(f"Unknown field '{key}'.")
    known.save()
    _bump(known.node)
    return known


def known_ae_delete(*, known: KnownAE) -> None:
    node = known.node
    known.delete()
    _bump(node)


# --- stored studies and patients (the archive's "study management" screens) -------------------------------------
def study_delete(*, node: Node, study_instance_uid: str) -> int:
    """Delete a stored study: its files and index rows. The node host re-reads the node's usage with the new
    revision, so the space counts against the quota no more. Returns the number of instances deleted."""
    from labs.nodes.selectors import instance_path

    instances = list(StoredInstance.objects.filter(node=node, study_instance_uid=study_instance_uid))
    if not instances:
        raise NodeError("That study is not stored on this node.")
    for instance in instances:
        instance_path(instance).unlink(missing_ok=True)
    StoredInstance.objects.filter(pk__in=[i.pk for i in instances]).delete()
    _bump(node, last_activity=timezone.now())
    return len(instances)


def patient_merge(*, node: Node, from_patient_id: str, to_patient_id: str, to_patient_name: str = "") -> int:
    """Reconcile a patient known under two IDs (PS3.3 C.7.1.1, IHE PIX/"patient merge"): every object stored
    under ``from_patient_id`` gets ``to_patient_id`` and the surviving patient's name, in the stored files and in
    the index, and keeps the old ID in its Other Patient IDs Sequence. Returns the number of objects changed."""
    from labs.dicom.storage import rewrite_patient
    from labs.nodes.selectors import instance_path

    source = (from_patient_id or "").strip()
    target = (to_patient_id or "").strip()
    if not source or not target:
        raise NodeError("Give the Patient ID to merge and the Patient ID that survives.")
    if source == target:
        raise NodeError("The two Patient IDs are the same: nothing to merge.")
    if len(target) > 64 or "\\" in target:
        raise NodeError("A Patient ID is at most 64 characters, without backslash (LO, PS3.5 §6.2).")
    instances = list(StoredInstance.objects.filter(node=node, patient_id=source))
    if not instances:
        raise NodeError(f"No study is stored under Patient ID '{source}'.")
    name = (to_patient_name or "").strip()
    if not name:
        survivor = StoredInstance.objects.filter(node=node, patient_id=target).first()
        name = survivor.patient_name if survivor else instances[0].patient_name
    if len(name) > 64 * 5:
        raise NodeError("The patient's name is too long.")
    changed = 0
    for instance in instances:
        path = instance_path(instance)
        if not path.exists():
            continue
        attrs = rewrite_patient(path, patient_id=target, patient_name=name)
        instance.attrs = attrs
        instance.patient_id = target[:64]
        instance.patient_name = str(attrs.get("PatientName", name))[:324]
        instance.size = path.stat().st_size
        instance.save(update_fields=["attrs", "patient_id", "patient_name", "size"])
        changed += 1
    _bump(node, last_activity=timezone.now())
    return changed


# --- worklist ------------------------------------------------------------------------------------------------
def worklist_item_add(
    *,
    node: Node,
    patient_name: str,
    patient_id: str,
    accession_number: str = "",
    modality: str = "CT",
    station_ae_title: str = "",
    start_date: str = "",
    start_time: str = "",
    procedure_description: str = "",
) -> WorklistItem:
    """Add a Modality Worklist entry (PS3.4 §K.6.1.2.2 attributes) to the node."""
    from pydicom.dataset import Dataset
    from pydicom.uid import generate_uid

    if not patient_id.strip() or not patient_name.strip():
        raise NodeError("A worklist entry needs a patient name and a patient ID.")
    if start_date and not re.fullmatch(r"\d{8}", start_date):
        raise NodeError("The scheduled date must be YYYYMMDD.")
    if start_time and not re.fullmatch(r"\d{2}(\d{2}(\d{2})?)?", start_time):
        raise NodeError("The scheduled time must be HH, HHMM or HHMMSS.")
    if modality and not re.fullmatch(r"[A-Z0-9 _]{1,16}", modality):
        raise NodeError("The modality must be a code such as CT, MR or US.")
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = patient_name.strip()[:64]
    ds.PatientID = patient_id.strip()[:64]
    ds.AccessionNumber = accession_number.strip()[:16]
    ds.StudyInstanceUID = generate_uid()
    ds.RequestedProcedureDescription = procedure_description[:64]
    ds.RequestedProcedureID = accession_number.strip()[:16] or "RP1"
    sps = Dataset()
    sps.Modality = modality
    sps.ScheduledStationAETitle = validate_ae_title(station_ae_title) if station_ae_title else ""
    sps.ScheduledProcedureStepStartDate = start_date or timezone.localdate().strftime("%Y%m%d")
    sps.ScheduledProcedureStepStartTime = start_time or "080000"
    sps.ScheduledProcedureStepDescription = procedure_description[:64]
    sps.ScheduledProcedureStepID = "SPS1"
    ds.ScheduledProcedureStepSequence = [sps]
    item = WorklistItem.objects.create(node=node, dataset=ds.to_json_dict())
    return item


def worklist_item_delete(*, item: WorklistItem) -> None:
    item.delete()


# --- written by the node host --------------------------------------------------------------------------------
_INDEX_COLUMNS = {
    "patient_id": ("PatientID", 64),
    "patient_name": ("PatientName", 324),
    "study_date": ("StudyDate", 8),
    "study_description": ("StudyDescription", 64),
    "accession_number": ("AccessionNumber", 16),
    "series_number": ("SeriesNumber", 12),
    "modality": ("Modality", 16),
    "instance_number": ("InstanceNumber", 12),
}


def instances_upsert(*, rows: Iterable[IndexRow]) -> int:
    """Insert or replace index rows (by node and SOP Instance UID); rows of deleted nodes are dropped."""
    rows = list(rows)
    if not rows:
        return 0
    live = set(Node.objects.filter(pk__in={r.node_id for r in rows}).values_list("pk", flat=True))
    latest: dict[tuple[int, str], IndexRow] = {}
    for row in rows:
        if row.node_id in live:
            latest[(row.node_id, row.sop_instance_uid)] = row
    objs = []
    for row in latest.values():
        extra = {col: str(row.attrs.get(kw, ""))[:size] for col, (kw, size) in _INDEX_COLUMNS.items()}
        objs.append(
            StoredInstance(
                node_id=row.node_id,
                sop_instance_uid=row.sop_instance_uid,
                sop_class_uid=row.sop_class_uid,
                transfer_syntax_uid=row.transfer_syntax_uid,
                study_instance_uid=row.study_instance_uid,
                series_instance_uid=row.series_instance_uid,
                relpath=row.relpath,
                size=row.size,
                pixel_hash=row.pixel_hash,
                calling_ae=row.calling_ae[:16],
                attrs=row.attrs,
                received_at=row.received_at,
                **extra,
            )
        )
    update = [
        "sop_class_uid",
        "transfer_syntax_uid",
        "study_instance_uid",
        "series_instance_uid",
        "relpath",
        "size",
        "pixel_hash",
        "calling_ae",
        "attrs",
        "received_at",
        *_INDEX_COLUMNS,
    ]
    StoredInstance.objects.bulk_create(
        objs, update_conflicts=True, unique_fields=["node", "sop_instance_uid"], update_fields=update
    )
    return len(objs)


def instances_delete(*, node_id: int, sop_instance_uids: Iterable[str]) -> None:
    StoredInstance.objects.filter(node_id=node_id, sop_instance_uid__in=list(sop_instance_uids)).delete()


def associations_record(*, records: Iterable[AssociationRecord]) -> int:
    """Write finished association records with their explanations, and keep only the newest NODE_LOG_KEEP
    associations per node."""
    records = list(records)
    nodes = {n.pk: n for n in Node.objects.filter(pk__in={r.node_id for r in records}).only("pk", "ae_title")}
    # Ids follow the order associations started, whichever thread finished first.
    records = sorted((r for r in records if r.node_id in nodes), key=lambda r: r.started_at)
    if not records:
        return 0
    logs = []
    for r in records:
        explanation, reference = explain_association(r, nodes[r.node_id].ae_title)
        logs.append(
            AssociationLog(
                node_id=r.node_id,
                direction=r.direction,
                started_at=r.started_at,
                duration_ms=r.duration_ms,
                negotiated_ms=r.negotiated_ms,
                peer_host=r.peer_host[:64],
                peer_port=r.peer_port,
                calling_ae=r.calling_ae[:64],
                called_ae=r.called_ae[:64],
                outcome=r.outcome,
                reject_result=r.reject[0] if r.reject else None,
                reject_source=r.reject[1] if r.reject else None,
                reject_reason=r.reject[2] if r.reject else None,
                ended_by=r.ended_by,
                detail=r.detail[:400],
                explanation=explanation,
                reference=reference[:120],
                proposed_contexts=r.proposed,
                accepted_contexts=r.accepted,
                bytes_in=r.bytes_in,
                bytes_out=r.bytes_out,
                max_pdu_peer=r.max_pdu_peer,
                dropped_messages=r.dropped_messages,
            )
        )
    with transaction.atomic():
        created = AssociationLog.objects.bulk_create(logs)
        messages = []
        for log, r in zip(created, records, strict=True):
            for seq, m in enumerate(r.messages):
                messages.append(
                    DimseLog(
                        association_id=log.pk,
                        seq=seq,
                        command=m.command,
                        direction=m.direction,
                        message_id=m.message_id,
                        sop_class_uid=m.sop_class_uid[:64],
                        affected_uid=m.affected_uid[:64],
                        status=m.status,
                        pending=m.pending,
                        completed=m.completed,
                        failed=m.failed,
                        warning=m.warning,
                        detail=m.detail[:300],
                        elapsed_ms=round((m.ended - m.started) * 1000, 2) if m.ended else None,
                    )
                )
        DimseLog.objects.bulk_create(messages)
        now = timezone.now()
        Node.objects.filter(pk__in={r.node_id for r in records if r.direction == "in"}).update(last_activity=now)
    keep = settings.NODE_LOG_KEEP
    for node_id in {r.node_id for r in records}:
        cutoff = list(
            AssociationLog.objects.filter(node_id=node_id).order_by("-id").values_list("id", flat=True)[keep : keep + 1]
        )
        if cutoff:
            AssociationLog.objects.filter(node_id=node_id, id__lte=cutoff[0]).delete()
    return len(created)


def node_mark(
    *, node_id: int, status: str, detail: str = "", revision: int | None = None, reset_epoch: int | None = None
) -> None:
    """The host reports a node's actual state (and which revision and reset it has applied)."""
    changes: dict[str, Any] = {"status": status, "status_detail": detail[:300]}
    if revision is not None:
        changes["applied_revision"] = revision
    if reset_epoch is not None:
        changes["applied_reset_epoch"] = reset_epoch
    if status == NodeStatus.RUNNING:
        changes["started_at"] = timezone.now()
    Node.objects.filter(pk=node_id).update(**changes)


def nodes_mark_stopped(*, node_ids: Iterable[int], detail: str = "") -> None:
    Node.objects.filter(pk__in=list(node_ids)).update(status=NodeStatus.STOPPED, status_detail=detail[:300])


def nodes_claim(*, host_id: str, node_ids: Iterable[int], stale_hosts: Iterable[str]) -> list[int]:
    """Claim unowned nodes (or nodes of hosts that stopped reporting) for ``host_id``; returns those claimed."""
    ids = list(node_ids)
    owners = ["", host_id, *stale_hosts]
    Node.objects.filter(pk__in=ids, host__in=owners).update(host=host_id)
    return list(Node.objects.filter(pk__in=ids, host=host_id).values_list("pk", flat=True))


def node_wipe(*, node_id: int) -> None:
    """Remove a node's index rows and association log (the host removes the files)."""
    StoredInstance.objects.filter(node_id=node_id).delete()
    AssociationLog.objects.filter(node_id=node_id).delete()


def nodes_reap_idle(*, now: datetime | None = None) -> list[int]:
    """Stop running nodes nobody has used for NODE_IDLE_MINUTES (data and configuration are kept)."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.NODE_IDLE_MINUTES)
    ids = list(Node.objects.filter(desired=DesiredState.RUNNING, last_activity__lt=cutoff).values_list("pk", flat=True))
    if ids:
        Node.objects.filter(pk__in=ids).update(desired=DesiredState.STOPPED, reaped_at=now, revision=F("revision") + 1)
    return ids


def host_heartbeat(
    *, host_id: str, pid: int, hostname: str, public_host: str, started_at: datetime, node_count: int, detail: str = ""
) -> None:
    NodeHost.objects.update_or_create(
        host_id=host_id,
        defaults={
            "pid": pid,
            "hostname": hostname[:255],
            "public_host": public_host[:255],
            "started_at": started_at,
            "last_seen": timezone.now(),
            "node_count": node_count,
            "detail": detail[:300],
        },
    )


def host_signed_off(*, host_id: str, pid: int) -> None:
    """A host that stops cleanly says so, so that health does not wait for its heartbeat to go stale."""
    NodeHost.objects.filter(host_id=host_id, pid=pid).update(detail="stopped", node_count=0)


# --- the node as a service user (console and API) ------------------------------------------------------------
def _remote(known: KnownAE) -> Any:
    from labs.dicom.scu import Remote

    return Remote(ae_title=known.ae_title, host=known.host, port=known.port)


def _logged(result: Any) -> Any:
    if result.record is not None:
        associations_record(records=[result.record])
    return result


def node_echo(*, node: Node, known: KnownAE) -> Any:
    """C-ECHO from the node to one of its known AEs; recorded in the node's association log."""
    from labs.dicom import scu

    return _logged(
        scu.echo(
            node_id=node.pk, calling_ae=node.ae_title, remote=_remote(known), allowed=settings.NODE_ALLOWED_NETWORKS
        )
    )


def node_find(*, node: Node, known: KnownAE, level: str, keys: dict[str, str], model: str = "study") -> Any:
    """C-FIND from the node to a known AE (study root, patient root or worklist)."""
    from labs.dicom import scu

    if model not in scu.FIND_MODELS:
        raise NodeError(f"Unknown query model '{model}': use study, patient or worklist.")
    if model != "worklist" and level not in ("PATIENT", "STUDY", "SERIES", "IMAGE"):
        raise NodeError("The query level must be PATIENT, STUDY, SERIES or IMAGE.")
    try:
        return _logged(
            scu.find(
                node_id=node.pk,
                calling_ae=node.ae_title,
                remote=_remote(known),
                allowed=settings.NODE_ALLOWED_NETWORKS,
                level=level,
                keys=keys,
                model=model,
            )
        )
    except ValueError as exc:
        raise NodeError(str(exc)) from exc


def node_move(
    *, node: Node, known: KnownAE, level: str, keys: dict[str, str], destination: str = "", model: str = "study"
) -> Any:
    """C-MOVE from the node: ask a known AE to send matches to ``destination`` (the node itself by default)."""
    from labs.dicom import scu

    if model not in scu.MOVE_MODELS:
        raise NodeError(f"Unknown retrieve model '{model}': use study or patient.")
    target = validate_ae_title(destination, what="Move destination") if destination else node.ae_title
    try:
        return _logged(
            scu.move(
                node_id=node.pk,
                calling_ae=node.ae_title,
                remote=_remote(known),
                allowed=settings.NODE_ALLOWED_NETWORKS,
                level=level,
                keys=keys,
                destination=target,
                model=model,
            )
        )
    except ValueError as exc:
        raise NodeError(str(exc)) from exc


def node_send_study(*, node: Node, known: KnownAE, study_instance_uid: str) -> Any:
    """C-STORE a stored study from the node to a known AE."""
    from labs.dicom import scu
    from labs.nodes.selectors import instance_path

    instances = list(StoredInstance.objects.filter(node=node, study_instance_uid=study_instance_uid))
    if not instances:
        raise NodeError("That study is not stored on this node.")
    paths = [p for p in (instance_path(i) for i in instances) if p.exists()]
    return _logged(
        scu.store(
            node_id=node.pk,
            calling_ae=node.ae_title,
            remote=_remote(known),
            allowed=settings.NODE_ALLOWED_NETWORKS,
            paths=paths,
        )
    )

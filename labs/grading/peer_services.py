"""Writes about a lab attempt's simulated peers: starting them with the lab, the modality console's settings,
"Send" (through the Celery task ``labs.peer_send``) and "Request storage commitment".

A peer is a node of kind ``peer`` owned by the learner, run by the node host like any node (own AE title, port
and store); the wire work of its console is in :mod:`labs.dicom.modality` and is logged in the peer's own
association log (outbound), so the learner's node shows the inbound side."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from labs.dicom import modality, synthetic
from labs.dicom.scu import Remote, ScuResult
from labs.dicom.storage import OBJECTS_DIR
from labs.grading.models import LabAttempt, LabPeer
from labs.grading.selectors import attempt_placeholders, fill_placeholders
from labs.nodes import services as node_services
from labs.nodes.models import Node, NodeKind
from labs.nodes.selectors import node_storage_dir
from labs.scenarios.schema import KnownAESpec, LabSpec, PeerSpec, WorklistSpec

logger = logging.getLogger(__name__)
SETTING_KEYS = ("dest_ae", "dest_host", "dest_port", "one_association_per_image", "declared_charset", "new_uids")


class PeerError(Exception):
    """A console action on a simulated peer that cannot be carried out (shown to the learner)."""


def _settings_merge(peer: LabPeer, *, count_send: bool = False, **values: Any) -> LabPeer:
    """Merge values into the peer's settings under a row lock (a send finishing and a settings change, or two
    presses, never overwrite each other's keys); ``count_send`` adds one to the number of sends."""
    with transaction.atomic():
        locked = LabPeer.objects.select_for_update().get(pk=peer.pk)
        if count_send:
            values["sends"] = int(locked.settings.get("sends", 0)) + 1
        locked.settings = {**locked.settings, **values}
        locked.save(update_fields=["settings"])
    peer.settings = locked.settings
    return peer


def _initial_settings(spec: PeerSpec, values: dict[str, str]) -> dict[str, Any]:
    dest = spec.destination
    return {
        "dest_ae": fill_placeholders(dest.ae_title, values),
        "dest_host": fill_placeholders(dest.host, values),
        "dest_port": int(fill_placeholders(str(dest.port), values)),
        "one_association_per_image": spec.one_association_per_image,
        "declared_charset": spec.charset.declared if spec.charset else None,
        "new_uids": False,
        "sends": 0,
    }


def known_aes_add(*, node: Node, known: list[KnownAESpec], values: dict[str, str]) -> None:
    """Add known AEs, filling ``{port}`` / ``{peer_port:KEY}`` with the attempt's ports."""
    for k in known:
        node_services.known_ae_add(
            node=node,
            ae_title=k.ae_title,
            host=fill_placeholders(k.host, values),
            port=int(fill_placeholders(str(k.port), values)),
            description=k.description,
            move_destination=k.move_destination,
            may_store=k.may_store,
        )


def worklist_add(*, node: Node, entry: WorklistSpec) -> None:
    node_services.worklist_item_add(node=node, **entry.model_dump())


def peers_start(*, attempt: LabAttempt, lab: LabSpec) -> list[LabPeer]:
    """Create and start the lab's peers for the attempt (any left from an earlier node are deleted first)."""
    for old in attempt.peers.select_related("node"):
        node_services.node_delete(node=old.node)
    peers: list[LabPeer] = []
    for spec in lab.peers:
        try:
            node = node_services.node_create(
                owner=attempt.learner,
                kind=NodeKind.PEER,
                name=f"{lab.title}: {spec.key}"[:80],
                lab_ref=lab.slug,
                ae_title=spec.ae_title,
                start=False,
            )
        except node_services.NodeError as exc:
            raise PeerError(str(exc)) from exc
        peers.append(LabPeer.objects.create(attempt=attempt, key=spec.key, role=spec.role, node=node))
    values = attempt_placeholders(attempt)
    for peer, spec in zip(peers, lab.peers, strict=True):
        node = peer.node
        node_services.node_configure(node=node, reject_unknown_calling=spec.reject_unknown_calling)
        if spec.faults:
            node_services.node_faults_set(node=node, faults=spec.faults)
        known_aes_add(node=node, known=spec.known_aes, values=values)
        for entry in spec.worklist:
            worklist_add(node=node, entry=entry)
        for key in spec.studies:
            study = lab.study(key)
            synthetic.write_into_store(synthetic.study(**study.generator_kwargs()), node_storage_dir(node.pk))
        peer.settings = _initial_settings(spec, values)
        peer.save(update_fields=["settings"])
        node_services.node_start(node=node)
    return peers


def peer_settings_update(*, peer: LabPeer, **changes: Any) -> LabPeer:
    """Change the modality console's settings (destination AE/host/port, one association per image, the
    declared character set, new UIDs for changed images)."""
    unknown = set(changes) - set(SETTING_KEYS)
    if unknown:
        raise PeerError(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
    clean: dict[str, Any] = {}
    try:
        if "dest_ae" in changes:
            clean["dest_ae"] = node_services.validate_ae_title(str(changes["dest_ae"]), what="Destination AE title")
        if "dest_host" in changes:
            clean["dest_host"] = node_services.validate_host(str(changes["dest_host"]))
        if "dest_port" in changes:
            clean["dest_port"] = node_services.validate_port(changes["dest_port"])
    except node_services.NodeError as exc:
        raise PeerError(str(exc)) from exc
    for key in ("one_association_per_image", "new_uids"):
        if key in changes:
            clean[key] = bool(changes[key])
    if "declared_charset" in changes:
        charset = str(changes["declared_charset"] or "").strip().upper()
        from pydicom.charset import python_encoding

        if charset and charset not in python_encoding:
            raise PeerError(f"'{charset}' is not a Specific Character Set defined term (PS3.3 §C.12.1.1.2).")
        clean["declared_charset"] = charset
    return _settings_merge(peer, **clean)


def _held(peer: LabPeer) -> list[Dataset]:
    """The images the peer holds in its store, in series and instance order."""
    directory: Path = node_storage_dir(peer.node_id) / OBJECTS_DIR
    datasets = [dcmread(p) for p in sorted(directory.glob("*.dcm"))]
    return sorted(datasets, key=lambda d: (str(d.SeriesInstanceUID), int(d.get("InstanceNumber", 0) or 0)))


def _device(peer: LabPeer, spec: PeerSpec) -> modality.DeviceSettings:
    s = peer.settings
    return modality.DeviceSettings(
        transfer_syntaxes=tuple(spec.transfer_syntaxes),
        one_association_per_image=bool(s.get("one_association_per_image")),
        declared_charset=s.get("declared_charset") if spec.charset else None,
        actual_charset=spec.charset.actual if spec.charset else None,
        changed_content=spec.duplicate_with_changed_content and int(s.get("sends", 0)) > 0,
        new_uids_for_changes=bool(s.get("new_uids")),
    )


def _spec(peer: LabPeer) -> PeerSpec:
    from labs.scenarios.loader import lab_get

    return lab_get(peer.attempt.lab_slug).peer(peer.key)


def peer_send_request(*, peer: LabPeer) -> str:
    """The learner pressed "Send": the send runs in the ``labs.peer_send`` task once this transaction commits.
    Each press gets a token; a redelivered message finds its token used and does not send twice."""
    from labs.grading.tasks import peer_send

    if peer.role != "modality":
        raise PeerError("Only a modality sends studies from its console.")
    token = uuid.uuid4().hex
    _settings_merge(peer, send_token=token, last_send="Queued: sending shortly…")
    transaction.on_commit(lambda: peer_send.delay(peer.pk, token))
    return token


def peer_send_execute(*, peer_id: int, token: str | None = None) -> str:
    """Send the modality's images to its destination; with ``token`` only if that press was not handled yet."""
    with transaction.atomic():
        peer = LabPeer.objects.select_for_update().select_related("attempt", "node").filter(pk=peer_id).first()
        if peer is None:
            return "peer deleted"
        if token is not None:
            if peer.settings.get("send_token") != token:
                return "already sent"
            peer.settings = {**peer.settings, "send_token": None}
            peer.save(update_fields=["settings"])
    s = peer.settings
    try:
        result, records = modality.send(
            node_id=peer.node_id,
            calling_ae=peer.node.ae_title,
            remote=Remote(ae_title=str(s["dest_ae"]), host=str(s["dest_host"]), port=int(s["dest_port"])),
            allowed=settings.NODE_ALLOWED_NETWORKS,
            datasets=_held(peer),
            settings=_device(peer, _spec(peer)),
        )
    except Exception as exc:  # the learner sees why, and may press Send again
        logger.exception("peer %s: send failed", peer_id)
        _settings_merge(peer, last_send=f"The send could not run: {exc}")
        raise
    node_services.associations_record(records=records)
    _settings_merge(peer, count_send=True, last_send=result.message)
    return result.message


def peer_commit_request(*, peer: LabPeer) -> ScuResult:
    """The learner pressed "Request storage commitment": N-ACTION for every image the modality holds, to its
    destination (run in the request, like the node console's other short SCU operations)."""
    if peer.role != "modality":
        raise PeerError("Only a modality requests storage commitment from its console.")
    s = peer.settings
    refs = [(str(ds.SOPClassUID), str(ds.SOPInstanceUID)) for ds in _held(peer)]
    transaction_uid = generate_uid()
    result = modality.request_commitment(
        node_id=peer.node_id,
        calling_ae=peer.node.ae_title,
        remote=Remote(ae_title=str(s["dest_ae"]), host=str(s["dest_host"]), port=int(s["dest_port"])),
        allowed=settings.NODE_ALLOWED_NETWORKS,
        references=refs,
        transaction_uid=transaction_uid,
    )
    if result.record is not None:
        node_services.associations_record(records=[result.record])
    _settings_merge(peer, commit_transaction=transaction_uid, last_commit=result.message)
    return result

"""Checks that involve a lab's simulated peers: what a peer received, what the learner's node stored from a
modality (character set, corrected images), an active worklist query as the modality, and storage commitment
results delivered back to the modality (PS3.4 Annexes B, J, K; PS3.5 §6.1)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from pydicom.dataset import Dataset

from labs.dicom import catalog, modality, scu, synthetic
from labs.grading.checks.base import CheckContext, Outcome, check
from labs.grading.checks.storage import study_on_node
from labs.grading.models import LabPeer
from labs.nodes.models import DimseLog, StoredInstance


def _peer(ctx: CheckContext, params: dict[str, Any]) -> LabPeer:
    peer = LabPeer.objects.select_related("node").filter(attempt__node=ctx.node, key=str(params["peer"])).first()
    if peer is None:
        raise ValueError(f"the attempt has no peer '{params['peer']}'")
    return peer


@check("peer_received_study")
def peer_received_study(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """The peer ``peer`` holds every instance of the lab's study ``study`` with the original UIDs and pixel
    data (optionally sent by ``calling_ae``): what a C-MOVE to a workstation must achieve (PS3.4 §C.4.2)."""
    if ctx.lab is None:
        raise ValueError("peer_received_study needs the lab")
    peer = _peer(ctx, params)
    outcome = study_on_node(peer.node, ctx.lab, str(params["study"]), params.get("calling_ae"))
    return Outcome(outcome.passed, f"On {peer.node.ae_title}: {outcome.evidence}")


@check("patient_name_decodes")
def patient_name_decodes(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """Every stored instance of the lab's study ``study`` shows the Patient's Name the modality meant, decoded
    with the Specific Character Set (0008,0005) it declared (PS3.5 §6.1, PS3.3 §C.12.1.1.2)."""
    if ctx.lab is None:
        raise ValueError("patient_name_decodes needs the lab")
    spec = ctx.lab.study(str(params["study"]))
    study_uid = str(synthetic.study(**spec.generator_kwargs())[0].StudyInstanceUID)
    rows = list(StoredInstance.objects.filter(node=ctx.node, study_instance_uid=study_uid, received_at__gte=ctx.since))
    if not rows:
        return Outcome(False, f"No instance of study {study_uid} was received since the lab started.")
    wrong = [r for r in rows if r.patient_name != spec.patient_name]
    if wrong:
        r = wrong[0]
        charset = r.attrs.get("SpecificCharacterSet", "(none: default repertoire)")
        return Outcome(
            False,
            f"{len(wrong)} of {len(rows)} instance(s) show Patient's Name '{r.patient_name}' instead of "
            f"'{spec.patient_name}'; their Specific Character Set is {charset} (PS3.5 §6.1).",
        )
    charset = rows[0].attrs.get("SpecificCharacterSet", "")
    return Outcome(
        True,
        f"All {len(rows)} instance(s) decode Patient's Name as '{spec.patient_name}' with Specific Character Set "
        f"{charset} (PS3.3 §C.12.1.1.2).",
    )


@check("corrected_images_stored")
def corrected_images_stored(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """The reprocessed version of every image of the lab's study ``study`` is on the node (found by its pixel
    SHA-256, whatever its UIDs), under SOP Instance UIDs other than the originals' when ``new_uids`` (default
    true; PS3.3 §C.12.1.1.1: changed content gets a new UID)."""
    if ctx.lab is None:
        raise ValueError("corrected_images_stored needs the lab")
    spec = ctx.lab.study(str(params["study"]))
    originals = synthetic.study(**spec.generator_kwargs())
    want = {modality.pixel_sha256(modality.corrected(ds, new_uids=False)): str(ds.SOPInstanceUID) for ds in originals}
    rows = StoredInstance.objects.filter(node=ctx.node, pixel_hash__in=want)
    found = {r.pixel_hash: r.sop_instance_uid for r in rows}
    if len(found) < len(want):
        return Outcome(
            False,
            f"{len(found)} of {len(want)} corrected image(s) are stored; the node still holds the first copy of the "
            "others (C-STORE of an existing SOP Instance UID, duplicate policy of the node).",
        )
    if params.get("new_uids", True):
        reused = [uid for h, uid in found.items() if uid == want[h]]
        if reused:
            return Outcome(
                False,
                f"The corrected images replaced the originals under the same SOP Instance UIDs (e.g. {reused[0]}): "
                "the images that were reported are gone (PS3.3 §C.12.1.1.1).",
            )
    return Outcome(
        True,
        f"All {len(want)} corrected image(s) are stored, under new SOP Instance UIDs (pixel SHA-256 matched; "
        "PS3.3 §C.12.1.1.1).",
    )


@check("worklist_probe")
def worklist_probe(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """Active probe: query the node's Modality Worklist as the modality ``peer`` does (its AE title as
    Scheduled Station AE Title, ``modality``, today's date; PS3.4 §K.6.1) and pass when the entry with
    ``accession`` comes back."""
    peer = _peer(ctx, params)
    accession = str(params["accession"])
    identifier = Dataset()
    identifier.PatientName = ""
    identifier.PatientID = ""
    identifier.AccessionNumber = ""
    sps = Dataset()
    sps.ScheduledStationAETitle = peer.node.ae_title
    sps.Modality = str(params.get("modality", "CT"))
    sps.ScheduledProcedureStepStartDate = timezone.localdate().strftime("%Y%m%d")
    identifier.ScheduledProcedureStepSequence = [sps]
    node = ctx.node
    result = scu.find(
        node_id=peer.node_id,
        calling_ae=peer.node.ae_title,
        remote=scu.Remote(ae_title=node.ae_title, host=ctx.host, port=node.port),
        allowed=settings.NODE_ALLOWED_NETWORKS,
        level="",
        keys={},
        model="worklist",
        identifier=identifier,
    )
    query = (
        f"ScheduledStationAETitle={peer.node.ae_title}, Modality={sps.Modality}, "
        f"ScheduledProcedureStepStartDate={sps.ScheduledProcedureStepStartDate}"
    )
    if not result.ok:
        return Outcome(False, f"The worklist query as {peer.node.ae_title} ({query}) failed: {result.message}")
    hit = [m for m in result.matches if m.get("AccessionNumber") == accession]
    if hit:
        return Outcome(
            True,
            f"The worklist query as {peer.node.ae_title} ({query}) returned the scheduled step with Accession "
            f"Number {accession} for {hit[0].get('PatientName', '')} (PS3.4 §K.6.1).",
        )
    return Outcome(
        False,
        f"The worklist query as {peer.node.ae_title} ({query}) returned {len(result.matches)} entr(ies), none with "
        f"Accession Number {accession} (PS3.4 §K.6.1.2.2).",
    )


@check("commitment_confirmed")
def commitment_confirmed(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """The modality ``peer`` received the storage commitment result from the node: an N-EVENT-REPORT on an
    association the node opened back to it, acknowledged with Success (PS3.4 §J.3.3)."""
    peer = _peer(ctx, params)
    reports = DimseLog.objects.filter(
        association__node=peer.node,
        association__direction="in",
        association__started_at__gte=ctx.since,
        command="N-EVENT-REPORT",
        sop_class_uid=catalog.STORAGE_COMMITMENT_PUSH,
    ).select_related("association")
    ok = reports.filter(status=0).order_by("-id").first()
    if ok:
        return Outcome(
            True,
            f"{peer.node.ae_title} received N-EVENT-REPORT #{ok.message_id} from '{ok.association.calling_ae}' "
            "(Storage Commitment Push Model result) and answered 0x0000 Success (PS3.4 §J.3.3).",
        )
    return Outcome(
        False,
        f"No storage commitment result (N-EVENT-REPORT) reached {peer.node.ae_title} since the lab started: the "
        "node must open a new association back to the requester (PS3.4 §J.3.3).",
    )

"""Checks on what the node stored: whole studies with UIDs and pixel hashes (PS3.4 Annex B)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from labs.dicom import synthetic
from labs.grading.checks.base import CheckContext, Outcome, check
from labs.nodes.models import Node, StoredInstance

if TYPE_CHECKING:
    from labs.scenarios.schema import LabSpec


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
    return study_on_node(ctx.node, ctx.lab, str(params["study"]), params.get("calling_ae"))


def study_on_node(node: Node, lab: LabSpec, key: str, calling: str | None = None) -> Outcome:
    """Every instance of the lab's study ``key`` is in ``node``'s index with the right UIDs and pixel data."""
    want = expected_instances(lab, key)
    rows = {r.sop_instance_uid: r for r in StoredInstance.objects.filter(node=node, sop_instance_uid__in=want)}
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
    if calling and any(r.calling_ae != calling for r in rows.values()):
        senders = sorted({r.calling_ae for r in rows.values()})
        return Outcome(
            False,
            f"The study is stored but was sent by {senders}, not '{calling}'.",
            hint=f"Every image arrived, but from the wrong device: send the study again calling as '{calling}' "
            f"(storescu -aet {calling} …); the calling AE title is how a PACS knows who sent what.",
        )
    which = (
        f"All {len(want)} instances of study {study_uid} are"
        if len(want) > 1
        else f"The instance of study {study_uid} is"
    )
    return Outcome(True, f"{which} stored with matching UIDs and pixel SHA-256 (C-STORE Success, PS3.4 §B.2).")

"""Checks on the data a node holds and the statuses it answered: storage SOP classes, refusals such as
0xA700 Out of Resources, patient reconciliation and de-identification per the PS3.15 Basic Profile.

The de-identification check is independent of whatever tool the learner used: it regenerates the lab's original
study, finds its de-identified copy on the node by the pixel data (unchanged by the Basic Profile), and reads the
stored files against the actions of PS3.15 Annex E Table E.1-1 for the attributes the original carries."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset

from labs.dicom import catalog, statuses, synthetic
from labs.dicom.storage import element_text
from labs.grading.checks.base import CheckContext, Outcome, check
from labs.grading.checks.network import negotiated
from labs.grading.checks.storage import expected_instances
from labs.nodes.models import DimseLog, StoredInstance
from labs.nodes.selectors import instance_path


def _int(value: Any) -> int:
    return int(str(value), 0) if isinstance(value, str) else int(value)


@check("sop_class_accepted")
def sop_class_accepted(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """The node accepts storage SOP class ``uid`` (PS3.4 §B.5) and, with ``seen: true``, an association
    negotiated a context for it (PS3.8 §9.3.3.2 result 0)."""
    uid = str(params["uid"])
    name = catalog.sop_class_name(uid)
    node = ctx.node
    if not node.accept_all_storage and uid not in (node.sop_classes or []):
        return Outcome(False, f"The node's accepted storage SOP classes do not include {name} ({uid}).")
    if params.get("seen"):
        found = negotiated(ctx, "abstract", uid)
        if found is not None:
            log, cx = found
            syntax = catalog.transfer_syntax_name(str(cx.get("transfer")))
            return Outcome(
                True,
                f"Context {cx.get('id')} for {name} from '{log.calling_ae}' was accepted in {syntax} (PS3.8 §9.3.3.2).",
            )
        return Outcome(False, f"The node accepts {name}, but no association has negotiated it since you started.")
    return Outcome(True, f"The node's configuration accepts {name} ({uid}) (PS3.4 §B.5).")


SETTINGS = {
    "accept_all_storage": "Accept every storage SOP class",
    "reject_unknown_calling": "Reject unknown calling AE titles",
    "duplicate_policy": "Duplicate policy",
    "quota_instances": "Instance quota",
    "quota_bytes": "Byte quota",
    "max_associations": "Association limit",
}


@check("node_setting")
def node_setting(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """The node's setting ``field`` equals ``equals`` (or is at most ``at_most`` / at least ``at_least``)."""
    field = str(params["field"])
    if field not in SETTINGS:
        raise ValueError(f"node_setting: unknown field '{field}'")
    value = getattr(ctx.node, field)
    label = SETTINGS[field]
    if "equals" in params and value != params["equals"]:
        return Outcome(False, f"{label} is {value!r}; this lab expects {params['equals']!r}.")
    if "at_most" in params and value > int(params["at_most"]):
        return Outcome(False, f"{label} is {value}, more than {params['at_most']}.")
    if "at_least" in params and value < int(params["at_least"]):
        return Outcome(False, f"{label} is {value}, less than {params['at_least']}.")
    return Outcome(True, f"{label} is {value!r} in the node's configuration.")


@check("dimse_status_seen")
def dimse_status_seen(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """The node answered a ``command`` (e.g. C-STORE) with ``status`` (e.g. 0xA700) since the attempt started:
    the learner met the symptom on the wire before fixing it."""
    command = str(params.get("command", "C-STORE"))
    code = _int(params["status"])
    info = statuses.status_info(code)
    msgs = DimseLog.objects.filter(
        association__node=ctx.node,
        association__direction="in",
        association__started_at__gte=ctx.since,
        command=command,
    ).select_related("association")
    hit = msgs.filter(status=code).order_by("-association_id", "-seq").first()
    if hit is not None:
        return Outcome(
            True,
            f"{command} #{hit.message_id} from '{hit.association.calling_ae}' was answered {info.hex} {info.name} "
            f"at {hit.association.started_at:%H:%M:%S} ({info.reference}).",
        )
    return Outcome(False, f"No {command} was answered {info.hex} {info.name} since you started ({info.reference}).")


@check("patient_reconciled")
def patient_reconciled(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """Every instance of the lab's ``studies`` is filed under ``patient_id`` (and ``patient_name`` when given)
    both in the node's index and in the stored files, and nothing is left under the ``retired_id``
    (PS3.3 C.7.1.1 Patient Module)."""
    if ctx.lab is None:
        raise ValueError("patient_reconciled needs the lab")
    want_id = str(params["patient_id"])
    want_name = str(params.get("patient_name", ""))
    retired = str(params.get("retired_id", ""))
    uids = [uid for key in params["studies"] for uid in expected_instances(ctx.lab, str(key))]
    rows = list(StoredInstance.objects.filter(node=ctx.node, sop_instance_uid__in=uids))
    if len(rows) < len(uids):
        return Outcome(False, f"Only {len(rows)} of the {len(uids)} instances of the patient's studies are stored.")
    for row in rows:
        try:
            ds = dcmread(instance_path(row), stop_before_pixels=True, specific_tags=["PatientID", "PatientName"])
        except OSError:
            return Outcome(False, f"The stored file of instance {row.sop_instance_uid} cannot be read.")
        in_file = (str(ds.get("PatientID", "")), str(ds.get("PatientName", "")))
        if row.patient_id != want_id or in_file[0] != want_id:
            return Outcome(
                False,
                f"Study {row.study_instance_uid} is still filed under Patient ID '{in_file[0] or row.patient_id}', "
                f"not '{want_id}' (PS3.3 C.7.1.1).",
            )
        if want_name and in_file[1].upper() != want_name.upper():
            name = in_file[1]
            return Outcome(False, f"Study {row.study_instance_uid} has Patient's Name '{name}', not '{want_name}'.")
    if retired and StoredInstance.objects.filter(node=ctx.node, patient_id=retired).exists():
        return Outcome(False, f"Objects are still filed under the retired Patient ID '{retired}'.")
    studies = len({r.study_instance_uid for r in rows})
    return Outcome(
        True,
        f"All {len(rows)} instances of the patient's {studies} studies are filed under Patient ID '{want_id}' in the "
        "index and in the stored files (PS3.3 C.7.1.1).",
    )


# PS3.15 Annex E Table E.1-1, Basic Profile actions for the attributes synthetic studies carry.
# D: dummy value; Z: zero length or dummy; X: remove; U: replace the UID consistently; combinations allow either.
BASIC_PROFILE: dict[str, str] = {
    "StudyDate": "Z",
    "SeriesDate": "X/D",
    "ContentDate": "Z/D",
    "StudyTime": "Z",
    "SeriesTime": "X/D",
    "ContentTime": "Z/D",
    "AccessionNumber": "Z",
    "InstitutionName": "X/Z/D",
    "InstitutionAddress": "X",
    "ReferringPhysicianName": "Z",
    "StationName": "X/Z/D",
    "StudyDescription": "X",
    "SeriesDescription": "X",
    "PatientName": "Z",
    "PatientID": "Z",
    "PatientBirthDate": "Z",
    "PatientSex": "Z",
    "OtherPatientIDs": "X",
    "StudyID": "Z",
    "SOPInstanceUID": "U",
    "StudyInstanceUID": "U",
    "SeriesInstanceUID": "U",
    "FrameOfReferenceUID": "U",
}
_UIDS = [k for k, action in BASIC_PROFILE.items() if action == "U"]


def _value(ds: Dataset, keyword: str) -> str:
    return element_text(ds.get(keyword)).strip() if keyword in ds else ""


def _profile_problem(original: Dataset, copy: Dataset, old_uids: set[str]) -> str:
    """The first way ``copy`` falls short of the Basic Profile, or ''."""
    for keyword, action in BASIC_PROFILE.items():
        before = _value(original, keyword)
        if not before:
            continue
        if action == "U":
            if keyword not in copy:
                return f"{keyword} was removed; the Basic Profile replaces UIDs (action U), it does not drop them"
            continue
        if keyword not in copy:
            if "X" not in action:
                return f"{keyword} was removed, but action {action} keeps this Type 1/2 attribute (empty or dummy)"
            continue
        if action == "X":
            return f"{keyword} is still present; action X removes it (PS3.15 Table E.1-1)"
        if _value(copy, keyword) == before:
            return f"{keyword} still holds the original value '{before}' (action {action}, PS3.15 Table E.1-1)"
    for elem in copy.iterall():
        if elem.VR == "UI" and element_text(elem.value).strip() in old_uids:
            return f"{elem.keyword or elem.tag} still holds an original UID"
    if _value(copy, "PatientIdentityRemoved") != "YES":
        return "Patient Identity Removed (0012,0062) is not YES"
    if not _value(copy, "DeidentificationMethod") and "DeidentificationMethodCodeSequence" not in copy:
        return "neither De-identification Method (0012,0063) nor its Code Sequence (0012,0064) says what was done"
    return ""


@check("study_deidentified")
def study_deidentified(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """A de-identified copy of the lab's study ``study`` is stored: every instance present (found by its pixel
    data), the PS3.15 Annex E Basic Profile applied to each, and UIDs replaced consistently — one new Study
    Instance UID, one new Series Instance UID per original series, no original UID left."""
    if ctx.lab is None:
        raise ValueError("study_deidentified needs the lab")
    spec = ctx.lab.study(str(params["study"]))
    originals = synthetic.study(**spec.generator_kwargs())
    want = expected_instances(ctx.lab, spec.key)
    old_uids = {_value(ds, k) for ds in originals for k in _UIDS} - {""}
    leaked = StoredInstance.objects.filter(node=ctx.node, sop_instance_uid__in=list(want)).count()
    if leaked:
        return Outcome(
            False,
            f"{leaked} instance(s) of the study are stored with their original SOP Instance UIDs: identified data "
            "reached the research archive, and its UIDs were not replaced (PS3.15 Annex E, action U).",
        )
    hashes = {pixels for _, _, pixels in want.values()}
    rows = list(
        StoredInstance.objects.filter(node=ctx.node, pixel_hash__in=hashes).exclude(sop_instance_uid__in=list(want))
    )
    if not rows:
        return Outcome(False, "No de-identified copy of the study is stored on the node (C-STORE, PS3.4 §B.2).")
    by_position = {(_value(ds, "SeriesNumber"), _value(ds, "InstanceNumber")): ds for ds in originals}
    copies: dict[tuple[str, str], Dataset] = {}
    for row in rows:
        try:
            ds = dcmread(instance_path(row))
        except OSError:
            continue
        copies[(_value(ds, "SeriesNumber"), _value(ds, "InstanceNumber"))] = ds
    missing = [pos for pos in by_position if pos not in copies]
    if missing:
        series, number = missing[0]
        return Outcome(
            False,
            f"{len(copies)} of {len(by_position)} de-identified instances are stored; e.g. series {series} image "
            f"{number} is missing.",
        )
    for pos, original in by_position.items():
        problem = _profile_problem(original, copies[pos], old_uids)
        if problem:
            return Outcome(False, f"Series {pos[0]} image {pos[1]}: {problem}.")
    studies = {_value(ds, "StudyInstanceUID") for ds in copies.values()}
    if len(studies) != 1:
        return Outcome(False, f"The copies carry {len(studies)} Study Instance UIDs: replace UIDs consistently.")
    series_map: dict[str, set[str]] = defaultdict(set)
    for pos, copy in copies.items():
        series_map[_value(by_position[pos], "SeriesInstanceUID")].add(_value(copy, "SeriesInstanceUID"))
    if any(len(new) != 1 for new in series_map.values()) or len(set().union(*series_map.values())) != len(series_map):
        return Outcome(False, "Series Instance UIDs were not replaced consistently: one new UID per original series.")
    return Outcome(
        True,
        f"All {len(copies)} instances are stored de-identified: Basic Profile actions applied (PS3.15 Annex E "
        f"Table E.1-1), Patient Identity Removed YES, one new Study Instance UID and {len(series_map)} new Series "
        "Instance UIDs, no original UID left.",
    )

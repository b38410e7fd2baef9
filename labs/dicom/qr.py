"""Query/Retrieve information models (PS3.4 Annex C.6): patient root and study root, their levels, and
how index rows become C-FIND candidates; and the Modality Worklist model (PS3.4 Annex K.6)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset

from labs.dicom import matching
from labs.dicom.storage import element_text
from labs.dicom.uids import clean_uid

PATIENT, STUDY, SERIES, IMAGE = "PATIENT", "STUDY", "SERIES", "IMAGE"
LEVELS = (PATIENT, STUDY, SERIES, IMAGE)
LEVEL_KEY = {PATIENT: "PatientID", STUDY: "StudyInstanceUID", SERIES: "SeriesInstanceUID", IMAGE: "SOPInstanceUID"}

# Attributes by level (PS3.4 Tables C.6-1 to C.6-4, abridged to what a node indexes).
PATIENT_KEYS = {
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "PatientBirthDate",
    "PatientBirthTime",
    "PatientSex",
    "OtherPatientIDs",
    "OtherPatientNames",
    "EthnicGroup",
    "PatientComments",
}
SERIES_KEYS = {
    "SeriesInstanceUID",
    "Modality",
    "SeriesNumber",
    "SeriesDescription",
    "SeriesDate",
    "SeriesTime",
    "BodyPartExamined",
    "ProtocolName",
    "Laterality",
    "PerformedProcedureStepStartDate",
    "PerformedProcedureStepStartTime",
    "FrameOfReferenceUID",
    "Manufacturer",
    "StationName",
}
IMAGE_KEYS = {
    "SOPInstanceUID",
    "SOPClassUID",
    "InstanceNumber",
    "ContentDate",
    "ContentTime",
    "AcquisitionNumber",
    "AcquisitionDate",
    "AcquisitionTime",
    "ImageType",
    "Rows",
    "Columns",
    "NumberOfFrames",
    "SliceLocation",
    "SliceThickness",
    "BitsAllocated",
    "BitsStored",
    "PhotometricInterpretation",
    "WindowCenter",
    "WindowWidth",
    "InstanceCreationDate",
    "InstanceCreationTime",
}


class QueryError(Exception):
    """The identifier is not a valid query for the information model; maps to 0xA900 (PS3.4 §C.4.1.1.4)."""


@dataclass(frozen=True)
class Match:
    level: str
    key: str
    record: dict[str, str]
    rows: tuple[dict[str, Any], ...]


def query_level(identifier: Dataset, *, patient_root: bool) -> str:
    level = element_text(identifier.get("QueryRetrieveLevel", "")).strip().upper()
    if level not in LEVELS:
        raise QueryError(f"Query/Retrieve Level (0008,0052) must be one of {', '.join(LEVELS)}, not '{level}'")
    if level == PATIENT and not patient_root:
        raise QueryError("The Study Root model has no PATIENT level: use STUDY, or the Patient Root model")
    return level


def prefilters(identifier: Dataset) -> dict[str, str]:
    """Exact values of unique keys the database can narrow on before matching."""
    out: dict[str, str] = {}
    for keyword in ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
        value = element_text(identifier.get(keyword, "")).strip("\x00 ")
        if value and "\\" not in value and "*" not in value and "?" not in value:
            if keyword != "PatientID" and clean_uid(value) is None:
                raise QueryError(f"{keyword} '{value[:64]}' is not a valid UID")
            out[keyword] = value
    return out


def _visible(keyword: str, level: str) -> bool:
    if level == IMAGE:
        return True
    if level == SERIES:
        return keyword not in IMAGE_KEYS
    if level == STUDY:
        return keyword not in IMAGE_KEYS and keyword not in SERIES_KEYS
    return keyword in PATIENT_KEYS


@dataclass(frozen=True)
class Group:
    """One patient, study, series or instance of a node's index, summarised for matching: the attributes of
    its first instance and what PS3.4 §C.3.4 computes over its members."""

    key: str
    attrs: Mapping[str, str]
    instances: int
    series: int
    studies: int
    modalities: frozenset[str]
    sop_classes: frozenset[str]
    rows: tuple[dict[str, Any], ...] = ()


GROUP_COLUMN = {PATIENT: "patient_id", STUDY: "study_instance_uid", SERIES: "series_instance_uid"}


def groups_from_rows(rows: Iterable[Mapping[str, Any]], level: str) -> list[Group]:
    """Group index rows at ``level``, keeping the rows (what a retrieve sends). The database computes the same
    summaries without the rows for C-FIND (``labs.nodes.selectors.index_groups``)."""
    members: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        key = row["attrs"].get(LEVEL_KEY[level], "") if level == PATIENT else row[_ROW_KEY[level]]
        members[key].append(row)
    return [
        Group(
            key=key,
            attrs=group[0]["attrs"],
            instances=len(group),
            series=len({m["series_instance_uid"] for m in group}),
            studies=len({m["study_instance_uid"] for m in group}),
            modalities=frozenset(m["attrs"].get("Modality", "") for m in group) - {""},
            sop_classes=frozenset(m["sop_class_uid"] for m in group),
            rows=tuple(dict(m) for m in group),
        )
        for key, group in members.items()
    ]


def candidates(groups: Iterable[Group], level: str, retrieve_ae: str) -> list[Match]:
    """One candidate per entity at ``level``, with the computed attributes (Number of … Related …, Modalities
    in Study, SOP Classes in Study; PS3.4 §C.3.4)."""
    out: list[Match] = []
    for group in groups:
        record: dict[str, str] = {k: v for k, v in group.attrs.items() if _visible(k, level)}
        record["RetrieveAETitle"] = retrieve_ae
        record["InstanceAvailability"] = "ONLINE"
        if level == PATIENT:
            record["NumberOfPatientRelatedStudies"] = str(group.studies)
            record["NumberOfPatientRelatedSeries"] = str(group.series)
            record["NumberOfPatientRelatedInstances"] = str(group.instances)
        if level == STUDY:
            record["ModalitiesInStudy"] = "\\".join(sorted(group.modalities))
            record["SOPClassesInStudy"] = "\\".join(sorted(group.sop_classes))
            record["NumberOfStudyRelatedSeries"] = str(group.series)
            record["NumberOfStudyRelatedInstances"] = str(group.instances)
        if level == SERIES:
            record["NumberOfSeriesRelatedInstances"] = str(group.instances)
        out.append(Match(level, group.key, record, group.rows))
    return out


_ROW_KEY = {STUDY: "study_instance_uid", SERIES: "series_instance_uid", IMAGE: "sop_instance_uid"}


def find(identifier: Dataset, groups: Iterable[Group], *, level: str, retrieve_ae: str) -> list[Match]:
    """Every entity at ``level`` matching ``identifier``, in a stable order."""
    found = [m for m in candidates(groups, level, retrieve_ae) if matching.matches(identifier, m.record)]
    return sorted(found, key=lambda m: (m.record.get("StudyDate", ""), m.record.get("SeriesNumber", ""), m.key))


def worklist_matches(identifier: Dataset, items: Iterable[Dataset]) -> list[Dataset]:
    """Modality Worklist C-FIND (PS3.4 §K.6.1.2): sequence matching on the Scheduled Procedure Step."""
    out: list[Dataset] = []
    for item in items:
        record = matching.dataset_record(item)
        if matching.matches(identifier, record):
            out.append(matching.response(identifier, record))
    return out

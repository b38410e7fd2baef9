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


def candidates(rows: Iterable[Mapping[str, Any]], level: str, retrieve_ae: str) -> list[Match]:
    """Group index rows into one candidate per entity at ``level``, with the computed attributes
    (Number of … Related …, Modalities in Study, SOP Classes in Study; PS3.4 §C.3.4)."""
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        attrs = row["attrs"]
        key = attrs.get(LEVEL_KEY[level], "") if level == PATIENT else row[_ROW_KEY[level]]
        groups[key].append(row)
    out: list[Match] = []
    for key, members in groups.items():
        first = members[0]["attrs"]
        record: dict[str, str] = {k: v for k, v in first.items() if _visible(k, level)}
        record["RetrieveAETitle"] = retrieve_ae
        record["InstanceAvailability"] = "ONLINE"
        studies = {m["study_instance_uid"] for m in members}
        series = {m["series_instance_uid"] for m in members}
        if level == PATIENT:
            record["NumberOfPatientRelatedStudies"] = str(len(studies))
            record["NumberOfPatientRelatedSeries"] = str(len(series))
            record["NumberOfPatientRelatedInstances"] = str(len(members))
        if level == STUDY:
            modalities = sorted({m["attrs"].get("Modality", "") for m in members} - {""})
            record["ModalitiesInStudy"] = "\\".join(modalities)
            record["SOPClassesInStudy"] = "\\".join(sorted({m["sop_class_uid"] for m in members}))
            record["NumberOfStudyRelatedSeries"] = str(len(series))
            record["NumberOfStudyRelatedInstances"] = str(len(members))
        if level == SERIES:
            record["NumberOfSeriesRelatedInstances"] = str(len(members))
        out.append(Match(level, key, record, tuple(dict(m) for m in members)))
    return out


_ROW_KEY = {STUDY: "study_instance_uid", SERIES: "series_instance_uid", IMAGE: "sop_instance_uid"}


def find(identifier: Dataset, rows: Iterable[Mapping[str, Any]], *, level: str, retrieve_ae: str) -> list[Match]:
    """Every entity at ``level`` matching ``identifier``, in a stable order."""
    found = [m for m in candidates(rows, level, retrieve_ae) if matching.matches(identifier, m.record)]
    return sorted(found, key=lambda m: (m.record.get("StudyDate", ""), m.record.get("SeriesNumber", ""), m.key))


def worklist_matches(identifier: Dataset, items: Iterable[Dataset]) -> list[Dataset]:
    """Modality Worklist C-FIND (PS3.4 §K.6.1.2): sequence matching on the Scheduled Procedure Step."""
    out: list[Dataset] = []
    for item in items:
        record = matching.dataset_record(item)
        if matching.matches(identifier, record):
            out.append(matching.response(identifier, record))
    return out

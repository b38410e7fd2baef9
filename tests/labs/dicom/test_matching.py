"""C-FIND matching rules (PS3.4 §C.2.2.2) on records."""

from typing import Any

import pytest
from pydicom.dataset import Dataset

from labs.dicom.matching import match_value, matches, response


@pytest.mark.parametrize(
    ("query", "value", "vr", "expected"),
    [
        ("", "ANY", "LO", True),  # universal
        ("*", "ANY", "LO", True),
        ("DOE^JANE", "DOE^JANE", "PN", True),
        ("doe^jane", "DOE^JANE", "PN", True),  # person names: case-insensitive
        ("ct_scanner", "CT_SCANNER", "AE", False),  # everything else: exact
        ("DOE*", "DOE^JANE", "PN", True),
        ("D?E^JANE", "DOE^JANE", "PN", True),
        ("D?E", "DOE^JANE", "PN", False),
        ("1.2*", "1.23", "UI", False),  # no wildcards in UIDs
        ("1.2\\1.3", "1.3", "UI", True),  # list of UIDs
        ("CT\\MR", "MR", "CS", True),
        ("CT", "MR\\CT", "CS", True),  # multi-valued candidate (Modalities in Study)
        ("20250101-20250131", "20250110", "DA", True),
        ("20250101-20250131", "20250210", "DA", False),
        ("20250101-", "20991231", "DA", True),
        ("-20250101", "20250102", "DA", False),
        ("0900-1000", "093015.5", "TM", True),
        ("09:00-10:00", "1001", "TM", False),
        ("X", "", "LO", False),  # an empty value never matches a non-empty key
    ],
)
def test_single_value_wildcard_list_and_range_matching(query, value, vr, expected):
    assert match_value(query, value, vr) is expected


def worklist_identifier(**sps_keys: str) -> Dataset:
    ds = Dataset()
    ds.PatientName = ""
    item = Dataset()
    for keyword, value in sps_keys.items():
        setattr(item, keyword, value)
    ds.ScheduledProcedureStepSequence = [item]
    return ds


RECORD: dict[str, Any] = {
    "PatientName": "WORK^LIST",
    "ScheduledProcedureStepSequence": [
        {"Modality": "MR", "ScheduledStationAETitle": "MR1", "ScheduledProcedureStepStartDate": "20250301"},
        {"Modality": "CT", "ScheduledStationAETitle": "CT1", "ScheduledProcedureStepStartDate": "20250302"},
    ],
}


def test_sequence_matching_needs_one_item_matching_every_key():
    assert matches(worklist_identifier(Modality="CT", ScheduledStationAETitle="CT1"), RECORD)
    assert not matches(worklist_identifier(Modality="CT", ScheduledStationAETitle="MR1"), RECORD)
    assert matches(worklist_identifier(ScheduledProcedureStepStartDate="20250302-"), RECORD)


def test_the_response_carries_only_the_requested_keys_and_matching_items():
    ds = response(worklist_identifier(Modality="CT", ScheduledStationAETitle=""), RECORD)
    assert ds.PatientName == "WORK^LIST"
    assert [i.ScheduledStationAETitle for i in ds.ScheduledProcedureStepSequence] == ["CT1"]
    assert "ScheduledProcedureStepStartDate" not in ds.ScheduledProcedureStepSequence[0]


def test_non_ascii_values_are_sent_in_utf8():
    query = Dataset()
    query.PatientName = ""
    ds = response(query, {"PatientName": "Müller^Jörg"})
    assert ds.SpecificCharacterSet == "ISO_IR 192"

"""The association log's explanation cites the part of PS3.8 that matches how the association ended."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from labs.dicom.explain import explain_association
from labs.dicom.runtime import AssociationRecord, DimseRecord

ECHO = {"id": 1, "abstract": "1.2.840.10008.1.1", "transfer": "1.2.840.10008.1.2", "result": 0}


def echoed(ended_by: str, detail: str = "") -> AssociationRecord:
    record = AssociationRecord(
        node_id=1, direction="in", started_at=datetime.now(UTC), peer_host="127.0.0.1", calling_ae="WS",
        called_ae="LAB_PACS", proposed=[ECHO], accepted=[ECHO], outcome="accepted", ended_by=ended_by, detail=detail,
    )  # fmt: skip
    record.messages.append(DimseRecord(command="C-ECHO", direction="in", message_id=1, status=0))
    return record


@pytest.mark.parametrize(
    ("ended_by", "says", "cites"),
    [
        ("release", "Released normally (A-RELEASE).", "A-RELEASE-RQ/RP"),
        ("abort", "Aborted (A-ABORT): peer went away.", "A-ABORT PDU"),
        ("closed", "Connection closed without a release: peer went away.", "transport connection closed"),
    ],
)
def test_the_reference_follows_how_the_association_ended(ended_by: str, says: str, cites: str) -> None:
    text, reference = explain_association(
        echoed(ended_by, "" if ended_by == "release" else "peer went away"), "LAB_PACS"
    )
    assert says in text
    assert cites in reference

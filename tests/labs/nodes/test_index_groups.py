"""C-FIND above the image level matches on summaries the database computes (``selectors.index_groups``); they
must equal what grouping the rows in Python gives (``qr.groups_from_rows``, used for retrieves)."""

from dataclasses import replace

import pytest
from django.utils import timezone

from labs.dicom import qr
from labs.dicom.runtime import IndexRow
from labs.nodes import selectors, services

CT = "1.2.840.10008.5.1.4.1.1.2"
SR = "1.2.840.10008.5.1.4.1.1.88.22"
MR = "1.2.840.10008.5.1.4.1.1.4"


@pytest.fixture
def node(learner, node_settings):
    node = services.node_create(owner=learner)
    now = timezone.now()
    rows = []
    # Two patients; patient A has a CT study with an SR series and an MR study; patient B one CT study.
    layout = [
        ("A", "1.2.3.1", "1.2.3.1.1", "CT", CT, 3),
        ("A", "1.2.3.1", "1.2.3.1.2", "SR", SR, 1),
        ("A", "1.2.3.2", "1.2.3.2.1", "MR", MR, 2),
        ("B", "1.2.3.3", "1.2.3.3.1", "CT", CT, 2),
        ("B", "1.2.3.3", "1.2.3.3.2", "", CT, 1),  # a series whose instances carry no Modality
    ]
    n = 0
    for patient, study, series, modality, sop_class, count in layout:
        for _ in range(count):
            n += 1
            attrs = {"PatientID": f"MRN-{patient}", "PatientName": f"DOE^{patient}", "StudyInstanceUID": study,
                     "SeriesInstanceUID": series, "SOPInstanceUID": f"1.2.9.{n}", "InstanceNumber": str(n)}  # fmt: skip
            if modality:
                attrs["Modality"] = modality
            rows.append(IndexRow(node_id=node.pk, sop_instance_uid=f"1.2.9.{n}", sop_class_uid=sop_class,
                                 transfer_syntax_uid="1.2.840.10008.1.2.1", study_instance_uid=study,
                                 series_instance_uid=series, relpath=f"x/{n}.dcm", size=100, pixel_hash="",
                                 calling_ae="CT1", attrs=attrs, received_at=now))  # fmt: skip
    services.instances_upsert(rows=rows)
    return node


@pytest.mark.parametrize("level", [qr.PATIENT, qr.STUDY, qr.SERIES])
@pytest.mark.parametrize("filters", [{}, {"PatientID": "MRN-A"}, {"StudyInstanceUID": "1.2.3.3"}])
def test_database_summaries_equal_the_python_grouping(node, level, filters):
    in_python = [
        replace(g, rows=()) for g in qr.groups_from_rows(selectors.index_rows(node_id=node.pk, filters=filters), level)
    ]
    in_sql = selectors.index_groups(node_id=node.pk, level=level, filters=filters)
    assert in_sql == in_python
    assert in_sql  # every filter above selects something


def test_study_summaries_count_series_instances_modalities_and_classes(node):
    studies = {g.key: g for g in selectors.index_groups(node_id=node.pk, level=qr.STUDY, filters={})}
    assert studies["1.2.3.1"].instances == 4 and studies["1.2.3.1"].series == 2
    assert studies["1.2.3.1"].modalities == {"CT", "SR"} and studies["1.2.3.1"].sop_classes == {CT, SR}
    assert studies["1.2.3.3"].modalities == {"CT"}  # the series without Modality adds nothing
    record = qr.candidates([studies["1.2.3.1"]], qr.STUDY, "NODE")[0].record
    assert record["ModalitiesInStudy"] == "CT\\SR"
    assert record["NumberOfStudyRelatedInstances"] == "4"
    patients = {g.key: g for g in selectors.index_groups(node_id=node.pk, level=qr.PATIENT, filters={})}
    assert patients["MRN-A"].studies == 2 and patients["MRN-A"].instances == 6

"""Stored objects are named only by valid UIDs, and the pixel hash is the hash of the Pixel Data value."""

import hashlib
from io import BytesIO
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file

from labs.dicom.statuses import reject_text, status_info
from labs.dicom.storage import object_path, pixel_data_hash
from labs.dicom.uids import clean_uid, is_valid_uid


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("1.2.840.10008.1.1", True),
        ("1" * 64, True),
        ("1" * 65, False),
        ("", False),
        ("1.2..3", False),
        ("1.2.", False),
        ("../etc/passwd", False),
        ("1.2/3", False),
        ("1.2\\3", False),
        ("1.2.3\x00", False),
    ],
)
def test_uid_validation(value, ok):
    assert is_valid_uid(value) is ok


def test_padding_is_stripped_and_bad_uids_give_none():
    assert clean_uid("1.2.3\x00") == "1.2.3"
    assert clean_uid(b"1.2.3 ") == "1.2.3"
    assert clean_uid("1.2.3/..") is None


def test_a_uid_that_is_not_valid_can_never_become_a_path(tmp_path: Path):
    assert object_path(tmp_path, "1.2.3") == tmp_path / "objects" / "1.2.3.dcm"
    with pytest.raises(ValueError, match="not a valid UID"):
        object_path(tmp_path, "../../x")


@pytest.mark.parametrize(
    "name",
    [
        "CT_small.dcm",
        "MR_small_implicit.dcm",
        "MR_small_RLE.dcm",
        "MR_small_jp2klossless.dcm",
        "ExplVR_BigEnd.dcm",
        "examples_ybr_color.dcm",
    ],
)
def test_pixel_hash_is_the_hash_of_the_pixel_data_value(name):
    path = str(get_testdata_file(name, download=False))
    data = Path(path).read_bytes()
    fp = BytesIO(data)
    ds = dcmread(fp, stop_before_pixels=True)
    digest = pixel_data_hash(data, fp.tell(), str(ds.file_meta.TransferSyntaxUID))
    assert digest == hashlib.sha256(dcmread(path).PixelData).hexdigest()


def test_statuses_and_rejections_read_like_dcmtk():
    assert (
        reject_text(1, 1, 7)
        == "Result: Rejected Permanent, Source: Service User, Reason: Called AE Title Not Recognized"
    )
    assert reject_text(2, 3, 2).endswith(
        "Source: Service Provider (Presentation Related), Reason: Local Limit Exceeded"
    )
    assert status_info(0xA801).name == "Refused: Move Destination Unknown"
    assert status_info(0xA700).category == "Failure"
    assert status_info(0xC123).category == "Failure"
    assert status_info(0xB000).category == "Warning"

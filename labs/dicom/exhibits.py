"""DICOM objects as question-bank exhibits: the check an uploaded object must pass (a real PS3.10 file, parsable,
no patient-identifying data) and the bundled exhibits, built deterministically from ``synthetic.study``.

The bank shows an exhibit as an image (``imaging.render_png``) or as a tag dump (``imaging.tag_dump``)."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

from pydicom import dcmread
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.tag import Tag
from pydicom.uid import UID

from labs.dicom.synthetic import phantom, study

# Attributes that identify a patient (PS3.15 Annex E, Table E.1-1, patient and visit identification). An exhibit may
# carry them only empty (Type 2 attributes are present with zero length in a de-identified object).
IDENTIFYING = (
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "PatientBirthDate",
    "PatientBirthTime",
    "OtherPatientIDs",
    "OtherPatientIDsSequence",
    "OtherPatientNames",
    "PatientBirthName",
    "PatientMotherBirthName",
    "PatientAddress",
    "PatientTelephoneNumbers",
    "PatientTelecomInformation",
    "MedicalRecordLocator",
    "PatientInsurancePlanCodeSequence",
    "MilitaryRank",
    "BranchOfService",
    "RegionOfResidence",
    "ResponsiblePerson",
    "PatientComments",
    "AccessionNumber",
)
_IDENTIFYING_TAGS = {Tag(k): k for k in IDENTIFYING}


class NotAnExhibit(Exception):
    """The upload cannot be a bank exhibit; the message says why and what to do."""


def exhibit_check(data: bytes) -> Dataset:
    """A DICOM exhibit must be a PS3.10 file (128-byte preamble, ``DICM``, file meta with a transfer syntax) that
    parses completely, and carry no patient-identifying values and no private attributes (which may hide them).
    Returns the parsed data set; raises ``NotAnExhibit`` with a message naming the problem."""
    if len(data) < 132 or data[128:132] != b"DICM":
        raise NotAnExhibit(
            "the file is not a DICOM Part 10 file (no 128-byte preamble followed by 'DICM'); export the object "
            "as a DICOM file (PS3.10), not a raw data set or a screenshot"
        )
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds = _parse(data)
        structural = [w for w in caught if Path(w.filename).name == "filereader.py"]
        if structural:  # the reader had to guess (wrong VR encoding, missing delimiters, early end of file)
            raise NotAnExhibit(f"the DICOM file could not be parsed cleanly: {str(structural[0].message)[:200]}")
        if "TransferSyntaxUID" not in ds.file_meta:
            raise NotAnExhibit("the file meta information has no Transfer Syntax UID (0002,0010)")
        found = [
            f"{elem.name} {_tag(elem.tag)}"
            for elem in ds.iterall()
            if elem.tag in _IDENTIFYING_TAGS and not elem.is_empty
        ]
        private = any(elem.tag.is_private for elem in ds.iterall())
        _check_native_pixel_length(ds)
    except NotAnExhibit:
        raise
    except (InvalidDicomError, ValueError, TypeError, KeyError, EOFError, OSError, NotImplementedError) as exc:
        raise NotAnExhibit(f"the DICOM file could not be parsed: {type(exc).__name__}: {str(exc)[:200]}") from exc
    if found:
        raise NotAnExhibit(
            "a bank exhibit must not carry patient data; this object has "
            + ", ".join(sorted(set(found)))
            + ". De-identify it (remove the values or leave them empty) and upload it again"
        )
    if private:
        raise NotAnExhibit(
            "the object has private attributes, which may carry patient data; remove them (for example "
            "ds.remove_private_tags() in pydicom) and upload it again"
        )
    return ds


def _parse(data: bytes) -> Dataset:
    ds = dcmread(io.BytesIO(data))
    for _ in ds.iterall():  # converts every element: a value or sequence that does not parse fails here
        pass
    return ds


def _check_native_pixel_length(ds: Dataset) -> None:
    """pydicom stops quietly at the end of a truncated file: uncompressed pixel data shorter than the image
    attributes say is the usual sign."""
    if "PixelData" not in ds or ds.file_meta.TransferSyntaxUID.is_compressed:
        return
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    bits = int(ds.get("BitsAllocated", 8) or 8)
    pixels = int(ds.get("Rows", 0) or 0) * int(ds.get("Columns", 0) or 0) * int(ds.get("SamplesPerPixel", 1) or 1)
    needed = (pixels * frames * bits + 7) // 8
    have = len(ds.PixelData or b"")
    if have < needed:
        raise NotAnExhibit(
            f"the file is truncated: Pixel Data (7FE0,0010) holds {have} bytes of the {needed} its image "
            "attributes (Rows, Columns, Samples per Pixel, Bits Allocated, Number of Frames) need"
        )


def _tag(tag: int) -> str:
    t = Tag(tag)
    return f"({t.group:04X},{t.element:04X})"


# --------------------------------------------------------------------------------------------- bundled exhibits


def _base(*, seed: int, modality: str = "CT") -> Dataset:
    """One synthetic CT/MR image, de-identified: identifying Type 2 attributes present and empty."""
    ds = study(seed=seed, modality=modality, series=1, images=1, size=64)[0]
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "AccessionNumber", "ReferringPhysicianName"):
        setattr(ds, keyword, "")
    for keyword in ("FrameOfReferenceUID", "PositionReferenceIndicator"):  # items were reviewed against these bytes
        delattr(ds, keyword)
    ds.StudyDescription = "Exhibit"
    ds.file_meta.ImplementationVersionName = "PACS_TRAINER_1"  # not the pydicom version: the same bytes after upgrades
    return ds


def charset_mismatch() -> Dataset:
    """Specific Character Set says ISO_IR 100 (Latin-1) but Study Description holds UTF-8 bytes ("Schädel")."""
    ds = _base(seed=101)
    ds.SpecificCharacterSet = "ISO_IR 100"
    value = "Schädel".encode()  # 8 bytes: 'ä' is two bytes in UTF-8
    ds[0x00081030] = RawDataElement(Tag(0x00081030), "LO", len(value), value, 0, False, True)
    return ds


def ct_window() -> Dataset:
    """CT phantom stored unsigned with Rescale Intercept -1024, shown with its own window (C 40, W 400)."""
    ds = _base(seed=102)
    hu = phantom(64, 3).astype("int32")
    ds.PixelRepresentation = 0
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    ds.RescaleType = "HU"
    ds.WindowCenter = 40
    ds.WindowWidth = 400
    ds.PixelData = (hu + 1024).astype("uint16").tobytes()
    return ds


def cr_monochrome1() -> Dataset:
    """A CR image: MONOCHROME1, 16 bits allocated, 12 stored, high bit 11, unsigned."""
    ds = _base(seed=103)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = UID("1.2.840.10008.5.1.4.1.1.1")
    ds.Modality = "CR"
    for keyword in ("SliceThickness", "ImagePositionPatient", "ImageOrientationPatient", "ImageType"):
        delattr(ds, keyword)
    ds.BodyPartExamined = "CHEST"
    ds.ViewPosition = "PA"
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    for keyword in ("RescaleIntercept", "RescaleSlope", "WindowCenter", "WindowWidth"):
        delattr(ds, keyword)
    ds.PixelData = ((phantom(64, 1).astype("int32") + 1000) * 3).clip(0, 4095).astype("uint16").tobytes()
    return ds


def missing_type1() -> Dataset:
    """A CT image without Study Instance UID, Series Instance UID; identifying Type 2 attributes empty."""
    ds = _base(seed=104)
    del ds.StudyInstanceUID
    del ds.SeriesInstanceUID
    ds.StudyID = ""
    return ds


def secondary_capture() -> Dataset:
    """A screen capture of a CT slice stored as Secondary Capture (no Image Plane module)."""
    ds = _base(seed=105)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = UID("1.2.840.10008.5.1.4.1.1.7")
    for keyword in ("SliceThickness", "ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing"):
        delattr(ds, keyword)
    ds.ConversionType = "WSD"
    ds.ImageType = ["DERIVED", "SECONDARY"]
    return ds


JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70"

EXHIBITS: dict[str, Callable[[], Dataset]] = {
    "exhibit-charset-mismatch.dcm": charset_mismatch,
    "exhibit-ct-window.dcm": ct_window,
    "exhibit-cr-monochrome1.dcm": cr_monochrome1,
    "exhibit-missing-type1.dcm": missing_type1,
    "exhibit-secondary-capture.dcm": secondary_capture,
}
JPEG_EXHIBIT = "exhibit-jpeg-lossless.dcm"  # the CT window exhibit compressed by DCMTK's dcmcjpeg (process 14 SV1)


def exhibits_write(directory: Path) -> list[Path]:
    """Write every bundled exhibit into ``directory`` (the same bytes every time). The JPEG Lossless one is
    compressed with DCMTK's ``dcmcjpeg`` (pydicom has no JPEG Lossless encoder)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, build in EXHIBITS.items():
        path = directory / name
        build().save_as(path, enforce_file_format=True)
        paths.append(path)
    dcmcjpeg = shutil.which("dcmcjpeg")
    if dcmcjpeg is None:
        raise RuntimeError("dcmcjpeg (DCMTK) is needed to write the JPEG Lossless exhibit")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source.dcm"
        ds = ct_window()
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = UID(f"{ds.SOPInstanceUID}.1")
        ds.save_as(source, enforce_file_format=True)
        # --encode-lossless-sv1: JPEG Lossless, Non-Hierarchical, First-Order Prediction (1.2.840.10008.1.2.4.70);
        # --uid-never keeps the SOP Instance UID (lossless: the same image); no timestamps are written
        subprocess.run(
            [dcmcjpeg, "--encode-lossless-sv1", "--uid-never", str(source), str(directory / JPEG_EXHIBIT)],
            check=True,
            capture_output=True,
        )
    jpeg = dcmread(directory / JPEG_EXHIBIT)
    del jpeg.DerivationDescription  # dcmcjpeg's note says "Lossless JPEG compression": the exhibit must not
    jpeg.save_as(directory / JPEG_EXHIBIT, enforce_file_format=True)  # (the pixel data stays as encoded)
    paths.append(directory / JPEG_EXHIBIT)
    return paths

"""Deterministic synthetic studies: realistic headers, phantom-like pixels, no real patient data.

Used by tests and lab fixtures to have whole studies without downloading anything (PS3.3 CT Image IOD
attributes, PS3.10 files)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
US_MULTIFRAME_STORAGE = "1.2.840.10008.5.1.4.1.1.3.1"
SOP_CLASSES = {"CT": CT_IMAGE_STORAGE, "MR": MR_IMAGE_STORAGE, "US": US_MULTIFRAME_STORAGE}
ROOT = "1.2.826.0.1.3680043.10.1471"  # a test root; never a real device's


def _uid(rng: random.Random) -> str:
    return f"{ROOT}.{rng.randrange(10**9, 10**10)}.{rng.randrange(10**9, 10**10)}"


def phantom(size: int, index: int) -> np.ndarray:
    """A cylinder with two inserts, in Hounsfield-like units, varying along the series."""
    y, x = np.mgrid[0:size, 0:size]
    c = (size - 1) / 2
    r = np.hypot(x - c, y - c)
    img = np.full((size, size), -1000, dtype=np.int16)
    img[r < size * 0.42] = 40
    img[np.hypot(x - c * 0.7, y - c) < size * (0.06 + 0.01 * (index % 5))] = 300
    img[np.hypot(x - c * 1.3, y - c * 1.1) < size * 0.08] = -100
    return img


def study(
    *,
    seed: int = 1,
    patient_name: str = "TRAINING^PHANTOM",
    patient_id: str = "PT-0001",
    study_date: str = "20250110",
    modality: str = "CT",
    series: int = 2,
    images: int = 3,
    size: int = 64,
    accession: str = "ACC0001",
    description: str = "Synthetic phantom study",
    frames: int = 1,
    transfer_syntax: str = "",
    institution: str = "",
    station: str = "",
    other_patient_ids: str = "",
) -> list[Dataset]:
    """A study as data sets with file meta, in Explicit VR Little Endian unless ``transfer_syntax`` names a
    compressed syntax pydicom can encode (RLE Lossless, JPEG 2000 Lossless; PS3.5 Annex A.4).

    ``modality`` CT and MR give single-frame images (PS3.3 A.3, A.4); US gives Ultrasound Multi-frame images of
    ``frames`` frames each (PS3.3 A.7), 8-bit as ultrasound scanners send them. ``institution``, ``station``
    and ``other_patient_ids`` add identifying attributes (for de-identification labs)."""
    rng = random.Random(seed)  # noqa: S311 - deterministic test data, not security
    study_uid = _uid(rng)
    out: list[Dataset] = []
    for s in range(1, series + 1):
        series_uid = _uid(rng)
        for i in range(1, images + 1):
            ds = Dataset()
            ds.SpecificCharacterSet = "ISO_IR 100"
            ds.SOPClassUID = SOP_CLASSES[modality]
            ds.SOPInstanceUID = _uid(rng)
            ds.StudyDate = ds.SeriesDate = ds.ContentDate = study_date
            ds.StudyTime = ds.SeriesTime = f"{(8 + s) % 24:02d}0000"
            ds.ContentTime = f"{(8 + s) % 24:02d}{(i // 60) % 60:02d}{i % 60:02d}"
            ds.AccessionNumber = accession
            ds.Modality = modality
            ds.Manufacturer = "PACS Trainer"
            ds.ReferringPhysicianName = "REFERRER^ALEX"
            ds.StudyDescription = description
            ds.SeriesDescription = f"Series {s}"
            ds.PatientName = patient_name
            ds.PatientID = patient_id
            ds.PatientBirthDate = "19700101"
            ds.PatientSex = "O"
            ds.StudyInstanceUID = study_uid
            ds.SeriesInstanceUID = series_uid
            ds.StudyID = "1"
            ds.SeriesNumber = s
            ds.InstanceNumber = i
            if institution:
                ds.InstitutionName = institution
                ds.InstitutionAddress = f"1 Hospital Road, {institution}"
            if station:
                ds.StationName = station
            if other_patient_ids:
                ds.OtherPatientIDs = other_patient_ids
            ds.SamplesPerPixel = 1
            ds.PhotometricInterpretation = "MONOCHROME2"
            ds.Rows = ds.Columns = size
            if modality == "US":
                _ultrasound(ds, size, i, frames)
            else:
                _cross_sectional(ds, size, i, f"{study_uid}.0")
            meta = FileMetaDataset()
            meta.MediaStorageSOPClassUID = ds.SOPClassUID
            meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            meta.TransferSyntaxUID = ExplicitVRLittleEndian
            meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
            ds.file_meta = meta
            if transfer_syntax and transfer_syntax != ExplicitVRLittleEndian:
                ds.compress(UID(transfer_syntax), generate_instance_uid=False)
            out.append(ds)
    return out


def _cross_sectional(ds: Dataset, size: int, index: int, frame_of_reference: str) -> None:
    """CT/MR image pixel and plane attributes (PS3.3 C.7.6.2, C.7.6.3, C.8.2.1)."""
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.FrameOfReferenceUID = frame_of_reference
    ds.PositionReferenceIndicator = ""
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.RescaleIntercept = 0
    ds.RescaleSlope = 1
    ds.WindowCenter = 40
    ds.WindowWidth = 400
    ds.PixelSpacing = [0.7, 0.7]
    ds.SliceThickness = 5
    ds.ImagePositionPatient = [0, 0, 5.0 * index]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelData = phantom(size, index).tobytes()


def _ultrasound(ds: Dataset, size: int, index: int, frames: int) -> None:
    """An 8-bit multi-frame cine loop (PS3.3 C.7.6.6 Multi-frame, C.8.5.6 US Image)."""
    ds.ImageType = ["ORIGINAL", "PRIMARY", "ABDOMINAL"]
    ds.NumberOfFrames = frames
    ds.FrameTime = 40.0
    ds.FrameIncrementPointer = 0x00181063  # Frame Time (PS3.3 C.7.6.6.1.1)
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    loop = [np.clip((phantom(size, index + f) + 1000) // 6, 0, 255).astype(np.uint8) for f in range(frames)]
    ds.PixelData = np.stack(loop).tobytes()


def write_study(datasets: list[Dataset], directory: Path, *, transfer_syntax: str | None = None) -> list[Path]:
    """Write data sets as PS3.10 files, in their own transfer syntax or in ``transfer_syntax`` (Implicit/Explicit
    VR LE for uncompressed data sets, or RLE Lossless)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, ds in enumerate(datasets):
        ds = ds.copy()
        ds.file_meta = FileMetaDataset(ds.file_meta)
        if transfer_syntax is None:
            pass
        elif transfer_syntax == "1.2.840.10008.1.2.5":
            ds.compress(UID(transfer_syntax), generate_instance_uid=False)
        else:
            ds.file_meta.TransferSyntaxUID = UID(transfer_syntax)
        path = directory / f"IM{n:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def write_into_store(datasets: list[Dataset], storage_dir: Path) -> list[Path]:
    """Place data sets in a node's object store (``<storage_dir>/objects/<SOP Instance UID>.dcm``) before the node
    starts: the node host indexes files it finds there when it starts the node (a preloaded study)."""
    from labs.dicom.storage import object_path

    paths = []
    for ds in datasets:
        path = object_path(storage_dir, str(ds.SOPInstanceUID))
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths

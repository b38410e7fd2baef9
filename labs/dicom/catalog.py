"""The SOP classes and transfer syntaxes a node can accept (PS3.4 Annex B, PS3.5 §10 and Annex A)."""

from __future__ import annotations

from dataclasses import dataclass

from pynetdicom.sop_class import _STORAGE_CLASSES

IMPLICIT_VR_LE = "1.2.840.10008.1.2"
EXPLICIT_VR_LE = "1.2.840.10008.1.2.1"
EXPLICIT_VR_BE = "1.2.840.10008.1.2.2"
DEFLATED_LE = "1.2.840.10008.1.2.1.99"


@dataclass(frozen=True)
class TransferSyntax:
    uid: str
    name: str
    compressed: bool


# PS3.5 Annex A. The order is the order shown in the console.
TRANSFER_SYNTAXES: tuple[TransferSyntax, ...] = (
    TransferSyntax(IMPLICIT_VR_LE, "Implicit VR Little Endian", False),
    TransferSyntax(EXPLICIT_VR_LE, "Explicit VR Little Endian", False),
    TransferSyntax(EXPLICIT_VR_BE, "Explicit VR Big Endian (retired)", False),
    TransferSyntax(DEFLATED_LE, "Deflated Explicit VR Little Endian", True),
    TransferSyntax("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)", True),
    TransferSyntax("1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)", True),
    TransferSyntax("1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)", True),
    TransferSyntax("1.2.840.10008.1.2.4.70", "JPEG Lossless, First-Order Prediction (Process 14 SV1)", True),
    TransferSyntax("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless", True),
    TransferSyntax("1.2.840.10008.1.2.4.81", "JPEG-LS Near-Lossless", True),
    TransferSyntax("1.2.840.10008.1.2.4.90", "JPEG 2000 (Lossless Only)", True),
    TransferSyntax("1.2.840.10008.1.2.4.91", "JPEG 2000", True),
    TransferSyntax("1.2.840.10008.1.2.5", "RLE Lossless", True),
)
TRANSFER_SYNTAX_NAMES = {ts.uid: ts.name for ts in TRANSFER_SYNTAXES}
UNCOMPRESSED = (IMPLICIT_VR_LE, EXPLICIT_VR_LE)
DEFAULT_TRANSFER_SYNTAXES: tuple[str, ...] = tuple(ts.uid for ts in TRANSFER_SYNTAXES)

# PS3.4 Annex B.5: every storage SOP class pynetdicom knows, keyed by UID.
STORAGE_SOP_CLASSES: dict[str, str] = {uid: name for name, uid in sorted(_STORAGE_CLASSES.items())}

# PS3.4 Annexes A, C, J and K; PS3.6 Annex A.
VERIFICATION = "1.2.840.10008.1.1"
STORAGE_COMMITMENT_PUSH = "1.2.840.10008.1.20.1"
MODALITY_WORKLIST_FIND = "1.2.840.10008.5.1.4.31"
PATIENT_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.1.1"
PATIENT_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.1.2"
PATIENT_ROOT_GET = "1.2.840.10008.5.1.4.1.2.1.3"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
STUDY_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.2.2"
STUDY_ROOT_GET = "1.2.840.10008.5.1.4.1.2.2.3"

SERVICE_SOP_CLASSES: dict[str, str] = {
    VERIFICATION: "Verification",
    PATIENT_ROOT_FIND: "Patient Root Query/Retrieve - FIND",
    PATIENT_ROOT_MOVE: "Patient Root Query/Retrieve - MOVE",
    PATIENT_ROOT_GET: "Patient Root Query/Retrieve - GET",
    STUDY_ROOT_FIND: "Study Root Query/Retrieve - FIND",
    STUDY_ROOT_MOVE: "Study Root Query/Retrieve - MOVE",
    STUDY_ROOT_GET: "Study Root Query/Retrieve - GET",
    MODALITY_WORKLIST_FIND: "Modality Worklist - FIND",
    STORAGE_COMMITMENT_PUSH: "Storage Commitment Push Model",
}

# The storage classes a learner meets most; the console lists these first.
COMMON_STORAGE = (
    "1.2.840.10008.5.1.4.1.1.2",  # CT Image Storage
    "1.2.840.10008.5.1.4.1.1.4",  # MR Image Storage
    "1.2.840.10008.5.1.4.1.1.1",  # Computed Radiography Image Storage
    "1.2.840.10008.5.1.4.1.1.1.1",  # Digital X-Ray Image Storage - For Presentation
    "1.2.840.10008.5.1.4.1.1.1.2",  # Digital Mammography X-Ray Image Storage - For Presentation
    "1.2.840.10008.5.1.4.1.1.6.1",  # Ultrasound Image Storage
    "1.2.840.10008.5.1.4.1.1.3.1",  # Ultrasound Multi-frame Image Storage
    "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture Image Storage
    "1.2.840.10008.5.1.4.1.1.128",  # PET Image Storage
    "1.2.840.10008.5.1.4.1.1.20",  # NM Image Storage
    "1.2.840.10008.5.1.4.1.1.88.11",  # Basic Text SR
    "1.2.840.10008.5.1.4.1.1.88.22",  # Enhanced SR
    "1.2.840.10008.5.1.4.1.1.104.1",  # Encapsulated PDF
    "1.2.840.10008.5.1.4.1.1.481.5",  # RT Plan
    "1.2.840.10008.5.1.4.1.1.481.2",  # RT Dose
    "1.2.840.10008.5.1.4.1.1.9.1.1",  # 12-lead ECG Waveform
)


def sop_class_name(uid: str) -> str:
    """A readable name for a SOP class UID, or the UID itself."""
    if uid in SERVICE_SOP_CLASSES:
        return SERVICE_SOP_CLASSES[uid]
    name = STORAGE_SOP_CLASSES.get(uid)
    if name is None:
        from pydicom.uid import UID

        pretty = UID(uid).name
        return pretty if pretty != uid else uid
    return _split_camel(name)


def _split_camel(name: str) -> str:
    out: list[str] = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower())):
            out.append(" ")
        out.append(ch)
    return "".join(out)


def transfer_syntax_name(uid: str) -> str:
    return TRANSFER_SYNTAX_NAMES.get(uid, uid)

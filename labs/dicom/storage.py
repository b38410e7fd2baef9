"""A node's object store: received C-STORE data sets are written as DICOM files (PS3.10) without decoding
the whole data set, named by validated SOP Instance UIDs, and described by index rows.

Layout: ``<storage root>/<node id>/objects/<SOP Instance UID>.dcm``. The UID is validated against PS3.5 §9.1
before it becomes a file name, so no received value can name a path."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import struct
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from labs.dicom import statuses
from labs.dicom.catalog import DEFLATED_LE, EXPLICIT_VR_BE, IMPLICIT_VR_LE
from labs.dicom.runtime import (
    DUPLICATE_KEEP_FIRST,
    DUPLICATE_REJECT,
    IndexRow,
    NodeBackend,
    NodeConfig,
)
from labs.dicom.uids import clean_uid

logger = logging.getLogger(__name__)

OBJECTS_DIR = "objects"
# Value representations whose values go into the index (PS3.5 §6.2); binary and sequence VRs do not.
_INDEXED_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "PN", "SH", "TM", "UI", "US", "UL", "SS", "SL"}
_MAX_INDEXED_VALUE = 512
_PIXEL_TAGS = {b"\xe0\x7f\x10\x00", b"\x7f\xe0\x00\x10"}


@dataclass(frozen=True)
class StoreOutcome:
    status: int
    comment: str = ""
    sop_instance_uid: str = ""


def object_path(storage_dir: Path, sop_instance_uid: str) -> Path:
    """The file of one instance; ``sop_instance_uid`` must already be validated (see :mod:`labs.dicom.uids`)."""
    if clean_uid(sop_instance_uid) != sop_instance_uid:
        raise ValueError("not a valid UID")
    return storage_dir / OBJECTS_DIR / f"{sop_instance_uid}.dcm"


def element_text(value: Any) -> str:
    """A data element value as DICOM text (multiple values joined by backslash, PS3.5 §6.4)."""
    if value is None:
        return ""
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return "\\".join(element_text(v) for v in value)
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    return str(value)


def index_attributes(ds: Dataset) -> dict[str, str]:
    """Top-level text attributes of a data set, keyed by keyword, for C-FIND matching and the browser.

    Elements still raw (as ``dcmread`` leaves them) are decoded here straight from their bytes when that is
    unambiguous — text in the default repertoire or Latin-1, and little-endian binary integers — because
    pydicom's per-element conversion was the largest share of a C-STORE's CPU time; anything else goes through
    pydicom."""
    attrs: dict[str, str] = {}
    simple_charset = _simple_charset(ds)
    for tag, elem in ds.items():
        if tag >> 16 == 0x0002:
            continue
        text: str | None = None
        if isinstance(elem, RawDataElement) and simple_charset and elem.VR != "UN":
            if (tag >> 16) % 2:
                continue  # private: no keyword
            keyword = keyword_for_tag(tag)
            vr = elem.VR or _dictionary_vr(tag)
            if keyword and vr in _INDEXED_VRS:
                text = _raw_text(vr, elem)
            elif keyword and vr and " or " not in vr:
                continue  # a VR that is not indexed; ambiguous VRs and repeating groups go through pydicom
        if text is None:
            try:
                full = ds[tag]
                if full.VR not in _INDEXED_VRS or not full.keyword:
                    continue
                text = element_text(full.value)
            except Exception:  # noqa: S112 - a value pydicom cannot convert is left out of the index
                continue
            keyword = full.keyword
        if len(text) <= _MAX_INDEXED_VALUE:
            attrs[keyword] = text.rstrip("\x00 ")
    return attrs


_SIMPLE_CHARSETS = {"", "ISO_IR 6", "ISO_IR 100", "ISO 2022 IR 6"}
_NUMBER_STRINGS = {"DS", "IS"}  # pydicom turns them into numbers, which drop padding around each value
_BINARY_INTS = {"US": "H", "UL": "L", "SS": "h", "SL": "l"}


def _simple_charset(ds: Dataset) -> bool:
    raw = ds.get("SpecificCharacterSet", "")
    values = [raw] if isinstance(raw, str) else list(raw or [])
    return all(str(v).strip() in _SIMPLE_CHARSETS for v in values)


def _dictionary_vr(tag: int) -> str:
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return ""


def _raw_text(vr: str, elem: RawDataElement) -> str | None:
    """The element's value as DICOM text from its raw bytes, or None when pydicom should convert it."""
    value = elem.value
    if value is None:
        return ""
    if vr in _BINARY_INTS:
        if not elem.is_little_endian:
            return None
        size = struct.calcsize(_BINARY_INTS[vr])
        if len(value) % size:
            return None
        numbers = struct.unpack(f"<{len(value) // size}{_BINARY_INTS[vr]}", value)
        return "\\".join(str(n) for n in numbers)
    text = value.decode("latin-1")
    if vr in _NUMBER_STRINGS:
        return "\\".join(part.strip(" \x00") for part in text.split("\\"))
    return text.rstrip(" \x00")


def uid_attribute(ds: Dataset, keyword: str) -> str | None:
    """A UID attribute's value when it is a valid UID *sent with VR UI*; a UID under another VR (a US holding
    1, say) is not taken for one."""
    elem = ds.get(keyword)
    if elem is None:
        return None
    vr = getattr(ds.data_element(keyword), "VR", "UI")
    return clean_uid(elem) if vr == "UI" else None


def pixel_data_hash(data: bytes, offset: int, transfer_syntax: str) -> str:
    """SHA-256 of the Pixel Data (7FE0,0010) value as received (native or encapsulated, PS3.5 §8, Annex A.4).

    ``offset`` is where ``dcmread(..., stop_before_pixels=True)`` stopped: the start of the element."""
    head = data[offset : offset + 4]
    if head not in _PIXEL_TAGS:
        return ""
    big = transfer_syntax == EXPLICIT_VR_BE
    if transfer_syntax == IMPLICIT_VR_LE:
        (length,) = struct.unpack_from("<L", data, offset + 4)
        start = offset + 8
    else:
        (length,) = struct.unpack_from(">L" if big else "<L", data, offset + 8)
        start = offset + 12
    if length == 0xFFFFFFFF:
        end = _encapsulated_end(data, start)
    elif start + length > len(data):
        raise ValueError(f"Pixel Data declares {length} bytes but carries {len(data) - start}")
    else:
        end = start + length
    return hashlib.sha256(memoryview(data)[start:end]).hexdigest()


def _encapsulated_end(data: bytes, pos: int) -> int:
    """Where encapsulated Pixel Data ends: walk the items to the Sequence Delimitation Item (PS3.5 §A.4).

    Raises ValueError when an item declares more bytes than remain or the delimiter is missing: compressed pixel
    data that lies about its size is refused, not stored truncated."""
    while pos + 8 <= len(data):
        group, element, length = struct.unpack_from("<HHL", data, pos)
        if (group, element) == (0xFFFE, 0xE0DD):
            return pos
        if (group, element) != (0xFFFE, 0xE000):
            raise ValueError(f"Pixel Data has a ({group:04X},{element:04X}) where an item belongs")
        if pos + 8 + length > len(data):
            raise ValueError(f"a Pixel Data fragment declares {length} bytes but {len(data) - pos - 8} remain")
        pos += 8 + length
    raise ValueError("encapsulated Pixel Data has no Sequence Delimitation Item")


class NodeStore:
    """The store of one node, shared by all its associations (thread-safe)."""

    def __init__(self, config: NodeConfig, backend: NodeBackend, usage: tuple[int, int] | None = None) -> None:
        self.config = config
        self.backend = backend
        self.objects = config.storage_dir / OBJECTS_DIR
        self.objects.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.bytes_used, self.instances = usage if usage is not None else backend.usage(config.node_id)

    def set_usage(self, bytes_used: int, instances: int) -> None:
        with self._lock:
            self.bytes_used, self.instances = bytes_used, instances

    def store(
        self, encoded: bytes, *, command_sop_class: str, command_sop_instance: str, calling_ae: str
    ) -> StoreOutcome:
        """Store one C-STORE data set given as a PS3.10 byte stream (preamble, file meta, data set).

        Returns the C-STORE response status (PS3.4 §B.2.3): 0x0000, 0xA700 over quota, 0xA900 bad
        identifying attributes, 0xC111 duplicate refused, 0xC000 unreadable."""
        fp = BytesIO(encoded)
        try:
            ds = dcmread(fp, stop_before_pixels=True)
            pixel_offset = fp.tell()
        except (InvalidDicomError, EOFError, ValueError, KeyError, struct.error, OSError, NotImplementedError) as exc:
            return StoreOutcome(statuses.UNABLE_TO_PROCESS, f"Cannot read the data set: {exc}"[:64])
        meta = ds.file_meta
        transfer_syntax = str(getattr(meta, "TransferSyntaxUID", ""))
        sop_uid = uid_attribute(ds, "SOPInstanceUID")
        sop_class = uid_attribute(ds, "SOPClassUID")
        study_uid = uid_attribute(ds, "StudyInstanceUID")
        series_uid = uid_attribute(ds, "SeriesInstanceUID")
        if not (sop_uid and sop_class and study_uid and series_uid):
            return StoreOutcome(statuses.IDENTIFIER_MISMATCH, "Missing or invalid SOP/Study/Series UID")
        if sop_uid != clean_uid(command_sop_instance) or sop_class != clean_uid(command_sop_class):
            return StoreOutcome(statuses.IDENTIFIER_MISMATCH, "Data set UIDs differ from the C-STORE command")
        try:
            attrs = index_attributes(ds)
            if transfer_syntax == DEFLATED_LE:
                full = dcmread(BytesIO(encoded))
                pixels = full.get("PixelData")
                pixel_hash = hashlib.sha256(pixels).hexdigest() if isinstance(pixels, bytes) else ""
            else:
                pixel_hash = pixel_data_hash(encoded, pixel_offset, transfer_syntax)
        except Exception as exc:
            return StoreOutcome(statuses.UNABLE_TO_PROCESS, f"Cannot read the data set: {exc}"[:64])
        return self._commit(
            encoded, sop_uid, sop_class, study_uid, series_uid, transfer_syntax, pixel_hash, attrs, calling_ae
        )

    def _commit(
        self,
        encoded: bytes,
        sop_uid: str,
        sop_class: str,
        study_uid: str,
        series_uid: str,
        transfer_syntax: str,
        pixel_hash: str,
        attrs: dict[str, str],
        calling_ae: str,
    ) -> StoreOutcome:
        target = object_path(self.config.storage_dir, sop_uid)
        size = len(encoded)
        fd, tmp_name = tempfile.mkstemp(dir=self.objects, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(encoded)
            with self._lock:
                old_size = target.stat().st_size if target.exists() else None
                if old_size is not None:
                    if self.config.duplicate_policy == DUPLICATE_REJECT:
                        return StoreOutcome(statuses.DUPLICATE_REFUSED, "Duplicate SOP Instance refused", sop_uid)
                    if self.config.duplicate_policy == DUPLICATE_KEEP_FIRST:
                        return StoreOutcome(statuses.SUCCESS, "Duplicate ignored: first copy kept", sop_uid)
                new_bytes = self.bytes_used + size - (old_size or 0)
                new_count = self.instances + (0 if old_size is not None else 1)
                if new_bytes > self.config.quota_bytes or new_count > self.config.quota_instances:
                    return StoreOutcome(statuses.OUT_OF_RESOURCES, "Node storage quota exceeded", sop_uid)
                os.replace(tmp_name, target)
                self.bytes_used, self.instances = new_bytes, new_count
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
        self.backend.record_instance(
            IndexRow(
                node_id=self.config.node_id,
                sop_instance_uid=sop_uid,
                sop_class_uid=sop_class,
                transfer_syntax_uid=transfer_syntax,
                study_instance_uid=study_uid,
                series_instance_uid=series_uid,
                relpath=f"{OBJECTS_DIR}/{sop_uid}.dcm",
                size=size,
                pixel_hash=pixel_hash,
                calling_ae=calling_ae,
                attrs=attrs,
                received_at=datetime.now(UTC),
            )
        )
        return StoreOutcome(statuses.SUCCESS, "", sop_uid)


def index_file(path: Path, *, node_id: int, calling_ae: str = "") -> IndexRow | None:
    """Index row for a file already in a node's store (used to rebuild the index after a crash)."""
    sop_uid = clean_uid(path.name.removesuffix(".dcm"))
    if sop_uid is None:
        return None
    try:
        data = path.read_bytes()
        fp = BytesIO(data)
        ds = dcmread(fp, stop_before_pixels=True)
        offset = fp.tell()
        ts = str(getattr(ds.file_meta, "TransferSyntaxUID", ""))
        pixel_hash = pixel_data_hash(data, offset, ts) if ts != DEFLATED_LE else ""
    except Exception:
        logger.warning("cannot re-index %s", path, exc_info=True)
        return None
    return IndexRow(
        node_id=node_id,
        sop_instance_uid=sop_uid,
        sop_class_uid=clean_uid(ds.get("SOPClassUID")) or "",
        transfer_syntax_uid=ts,
        study_instance_uid=clean_uid(ds.get("StudyInstanceUID")) or "",
        series_instance_uid=clean_uid(ds.get("SeriesInstanceUID")) or "",
        relpath=f"{OBJECTS_DIR}/{sop_uid}.dcm",
        size=len(data),
        pixel_hash=pixel_hash,
        calling_ae=calling_ae,
        attrs=index_attributes(ds),
        received_at=datetime.fromtimestamp(path.stat().st_mtime, UTC),
    )


def rewrite_patient(path: Path, *, patient_id: str, patient_name: str) -> dict[str, str]:
    """Give a stored object another Patient ID and Patient's Name (PS3.3 C.7.1.1), keeping the previous ID in the
    Other Patient IDs Sequence (0010,1002) as a patient merge does; the pixel data and every UID stay as they
    are. The file is replaced atomically; returns the object's new index attributes."""
    ds = dcmread(path)
    previous = str(ds.get("PatientID", ""))
    if previous and previous != patient_id:
        alias = Dataset()
        alias.PatientID = previous
        alias.TypeOfPatientID = "TEXT"
        known = [item for item in ds.get("OtherPatientIDsSequence", []) if item.get("PatientID") != previous]
        ds.OtherPatientIDsSequence = [*known, alias]
    ds.PatientID = patient_id
    ds.PatientName = patient_name or ds.get("PatientName", "")
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    os.close(fd)
    try:
        ds.save_as(tmp_name, enforce_file_format=True)
        os.replace(tmp_name, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
    return index_attributes(ds)

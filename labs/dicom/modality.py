"""A simulated modality as a service user: it sends the images it holds (C-STORE, PS3.4 Annex B) the way a real
device is configured to, and asks for storage commitment (N-ACTION, PS3.4 Annex J).

Device behaviours a lab declares are applied here, to copies of the stored data sets:
- one association per image, all opened before the first image is sent (a device with parallel send threads),
  so a receiver with a low association limit rejects some of them (A-ASSOCIATE-RJ 2/3/2, PS3.8 §9.3.4);
- the transfer syntaxes it offers;
- a Specific Character Set (0008,0005) that lies: text written in one repertoire, another one declared
  (PS3.5 §6.1);
- a resend of reprocessed images: the changed content keeps the old SOP Instance UIDs unless the operator
  asks for new ones (PS3.3 §C.12.1.1.1: a changed instance must get a new UID)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from pydicom.charset import python_encoding
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import generate_uid
from pynetdicom.presentation import PresentationContext, build_context

from labs.dicom import catalog, statuses
from labs.dicom.netpolicy import Network
from labs.dicom.runtime import AssociationRecord
from labs.dicom.scu import Remote, ScuResult, _close, _open, store_one

MARKER = 900  # the value burned into the corrected images' corner (a laterality marker)


@dataclass(frozen=True)
class DeviceSettings:
    """How the modality is set up (its DICOM settings screen)."""

    transfer_syntaxes: tuple[str, ...] = ()
    one_association_per_image: bool = False
    declared_charset: str | None = None  # None: as stored
    actual_charset: str | None = None  # the repertoire the device really writes text in
    changed_content: bool = False  # send the reprocessed images
    new_uids_for_changes: bool = False


def corrected(ds: Dataset, *, new_uids: bool) -> Dataset:
    """The reprocessed version of an image: a marker burned into the top-left corner and the Series Description
    marked; with ``new_uids`` a new SOP Instance UID and Series Instance UID, derived from the old ones so the
    same image always gets the same new UID."""
    out = ds.copy()
    out.file_meta = FileMetaDataset(ds.file_meta)
    pixels = bytearray(ds.PixelData)
    marker = int(MARKER).to_bytes(2, "little", signed=True)
    columns = int(ds.Columns)
    for row in range(min(4, int(ds.Rows))):
        for col in range(min(4, columns)):
            at = 2 * (row * columns + col)
            pixels[at : at + 2] = marker
    out.PixelData = bytes(pixels)
    out.SeriesDescription = f"{ds.get('SeriesDescription', '')} CORRECTED".strip()[:64]
    if new_uids:
        out.SOPInstanceUID = generate_uid(entropy_srcs=[str(ds.SOPInstanceUID), "corrected"])
        out.SeriesInstanceUID = generate_uid(entropy_srcs=[str(ds.SeriesInstanceUID), "corrected"])
        out.file_meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
    return out


def pixel_sha256(ds: Dataset) -> str:
    return hashlib.sha256(ds.PixelData).hexdigest()


def prepare(datasets: Iterable[Dataset], settings: DeviceSettings) -> list[Dataset]:
    """The data sets as the device puts them on the wire."""
    out = []
    for ds in datasets:
        if settings.changed_content:
            ds = corrected(ds, new_uids=settings.new_uids_for_changes)
        else:
            ds = ds.copy()
            ds.file_meta = FileMetaDataset(ds.file_meta)
        if settings.declared_charset is not None or settings.actual_charset is not None:
            name = str(ds.get("PatientName", ""))
            declared = settings.declared_charset if settings.declared_charset is not None else ""
            if declared:
                ds.SpecificCharacterSet = declared
            elif "SpecificCharacterSet" in ds:
                del ds.SpecificCharacterSet
            if settings.actual_charset:
                codec = python_encoding.get(settings.actual_charset, "iso8859")
                ds.PatientName = name.encode(codec, "replace")  # raw bytes: written as they are
        out.append(ds)
    return out


def _contexts(datasets: Iterable[Dataset], offered: tuple[str, ...]) -> list[PresentationContext]:
    syntaxes = list(offered) or list(catalog.UNCOMPRESSED)
    classes = sorted({str(ds.SOPClassUID) for ds in datasets})
    return [build_context(uid, syntaxes) for uid in classes][:128]


def send(
    *,
    node_id: int,
    calling_ae: str,
    remote: Remote,
    allowed: Iterable[Network],
    datasets: list[Dataset],
    settings: DeviceSettings,
) -> tuple[ScuResult, list[AssociationRecord]]:
    """Send the images as the device is set up to; returns the outcome and one record per association."""
    wire = prepare(datasets, settings)
    result = ScuResult(False, "")
    if not wire:
        result.message = "The modality holds no images to send."
        return result, []
    nets = tuple(allowed)
    failures: list[str] = []
    records: list[AssociationRecord] = []
    groups = [[ds] for ds in wire] if settings.one_association_per_image else [wire]
    opened = []
    for group in groups:  # every association is opened before the first image goes (parallel senders)
        assoc, record, reason = _open(
            node_id=node_id,
            calling_ae=calling_ae,
            remote=remote,
            contexts=_contexts(group, settings.transfer_syntaxes),
            allowed=nets,
        )
        records.append(record)
        opened.append((assoc, record, reason, group))
    for assoc, record, reason, group in opened:
        if assoc is None:
            result.failed += len(group)
            failures.append(reason)
            continue
        try:
            for ds in group:
                store_one(assoc, ds, result, failures)
                if not assoc.is_established:
                    break
        finally:
            _close(assoc, record)
    rejected = sum(1 for r in records if r.outcome == "rejected")
    result.ok = result.failed == 0 and result.completed + result.warning == len(wire)
    result.message = (
        f"Sent {len(wire)} image(s) on {len(records)} association(s): {result.completed} stored, "
        f"{result.warning} with warnings, {result.failed} failed"
        + (f"; {rejected} association(s) rejected" if rejected else "")
        + "."
    )
    if failures:
        result.message += " First failure: " + failures[0]
    result.record = records[0] if records else None
    return result, records


def request_commitment(
    *,
    node_id: int,
    calling_ae: str,
    remote: Remote,
    allowed: Iterable[Network],
    references: list[tuple[str, str]],
    transaction_uid: str,
) -> ScuResult:
    """N-ACTION Request Storage Commitment (Action Type 1) for the referenced instances; the answer only says
    the request was received, the result comes back later as an N-EVENT-REPORT (PS3.4 §J.3.2, §J.3.3)."""
    cx = build_context(catalog.STORAGE_COMMITMENT_PUSH, list(catalog.UNCOMPRESSED))
    assoc, record, reason = _open(node_id=node_id, calling_ae=calling_ae, remote=remote, contexts=[cx], allowed=allowed)
    if assoc is None:
        return ScuResult(False, reason, record=record)
    info = Dataset()
    info.TransactionUID = transaction_uid
    items = []
    for sop_class, sop_instance in references:
        item = Dataset()
        item.ReferencedSOPClassUID = sop_class
        item.ReferencedSOPInstanceUID = sop_instance
        items.append(item)
    info.ReferencedSOPSequence = items
    try:
        rsp, _ = assoc.send_n_action(info, 1, catalog.STORAGE_COMMITMENT_PUSH, "1.2.840.10008.1.20.1.1")
        code = int(rsp.Status) if rsp and "Status" in rsp else None
    finally:
        _close(assoc, record)
    if code is None:
        return ScuResult(False, f"{remote.ae_title} did not answer the N-ACTION in time.", record=record)
    info_text = statuses.status_info(code)
    return ScuResult(
        code == 0,
        f"N-ACTION (Request Storage Commitment, {len(references)} instance(s)) answered {info_text.hex} "
        f"{info_text.name}; the result will come back as an N-EVENT-REPORT on a new association.",
        status=code,
        record=record,
    )

"""Images and tag dumps for the study browser: a PNG of the first frame with the data set's own windowing
(PS3.3 §C.11.2 VOI LUT, §C.11.1 Modality LUT), and a readable listing of the data elements."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.pixels.processing import apply_modality_lut, apply_voi_lut

MAX_VALUE_CHARS = 160
MAX_ROWS = 2000


class NotAnImage(Exception):
    """The object has no pixel data that can be shown (or its codec is missing); the message says why."""


def _first_frame(ds: Dataset) -> np.ndarray:
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    try:
        arr = ds.pixel_array if frames == 1 else _frame(ds, 0)
    except Exception as exc:  # a codec missing or corrupt pixel data: say so instead of failing
        raise NotAnImage(f"cannot decode the pixel data ({type(exc).__name__}: {str(exc)[:120]})") from exc
    return np.asarray(arr)


def _frame(ds: Dataset, index: int) -> np.ndarray:
    from pydicom.pixels.utils import pixel_array

    return np.asarray(pixel_array(ds, index=index))


def render_png(path: Path | BinaryIO, *, size: int = 256) -> bytes:
    """The first frame as a PNG at most ``size`` pixels wide/high, windowed like a viewer would."""
    try:
        ds = dcmread(path)
    except Exception as exc:
        raise NotAnImage(f"cannot read the file ({type(exc).__name__})") from exc
    if "PixelData" not in ds:
        raise NotAnImage("this object has no pixel data (for example a report or a waveform)")
    arr = _first_frame(ds)
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2"))
    if arr.ndim == 3 and arr.shape[-1] in (3, 4):  # colour (pydicom converts YBR to RGB when decoding)
        rgb = arr[..., :3].astype(np.float64)
        hi = float(rgb.max()) or 1.0
        image = Image.fromarray((rgb / hi * 255).clip(0, 255).astype(np.uint8), "RGB")
    else:
        data = apply_modality_lut(arr, ds).astype(np.float64)
        if "WindowCenter" in ds and "WindowWidth" in ds:  # linear window (PS3.3 §C.11.2.1.2)
            center, width = _first(ds.WindowCenter), max(_first(ds.WindowWidth), 1.0)
            low, high = center - width / 2, center + width / 2
        elif "VOILUTSequence" in ds:  # a lookup table: apply it, then show its whole output range
            with contextlib.suppress(Exception):  # a broken VOI LUT falls back to the data's range
                data = np.asarray(apply_voi_lut(data, ds, index=0), dtype=np.float64)
            low, high = float(data.min()), float(data.max())
        else:  # no windowing in the data set: a robust full range
            low, high = float(np.percentile(data, 0.5)), float(np.percentile(data, 99.5))
        if high <= low:
            high = low + 1
        scaled = ((data - low) / (high - low) * 255).clip(0, 255).astype(np.uint8)
        if photometric == "MONOCHROME1":
            scaled = 255 - scaled
        image = Image.fromarray(scaled, "L")
    image.thumbnail((size, size))
    out = BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _first(value: Any) -> float:
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        value = value[0]
    return float(value)


@dataclass(frozen=True)
class TagRow:
    depth: int
    tag: str
    keyword: str
    vr: str
    value: str


def tag_dump(path: Path | BinaryIO) -> list[TagRow]:
    """Every data element (file meta first, sequences indented), values shortened for display."""
    ds = dcmread(path, defer_size=4096)
    rows: list[TagRow] = []

    def walk(dataset: Dataset, depth: int) -> None:
        for elem in dataset:
            if len(rows) >= MAX_ROWS:
                return
            tag = f"({elem.tag.group:04X},{elem.tag.element:04X})"
            if elem.VR == "SQ":
                rows.append(TagRow(depth, tag, elem.keyword or elem.name, "SQ", f"{len(elem.value)} item(s)"))
                for item in elem.value:
                    walk(item, depth + 1)
                continue
            if elem.tag == 0x7FE00010 or elem.VR in ("OB", "OW", "OF", "OD", "OL", "OV", "UN"):
                try:
                    text = f"<binary, {len(elem.value or b'')} bytes>"
                except TypeError:
                    text = "<binary>"
            else:
                text = str(elem.repval if elem.VM > 1 and len(str(elem.value)) > MAX_VALUE_CHARS else elem.value)
            if len(text) > MAX_VALUE_CHARS:
                text = text[:MAX_VALUE_CHARS] + "…"
            rows.append(TagRow(depth, tag, elem.keyword or elem.name, str(elem.VR), text))

    walk(ds.file_meta, 0)
    walk(ds, 0)
    return rows

"""C-FIND matching (PS3.4 §C.2.2.2): universal, single value, wildcard, range, list-of-UID and sequence
matching, applied to records (keyword → DICOM text value, or list of records for a sequence).

Records rather than pydicom data sets keep matching cheap: the index stores values as text already."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

from labs.dicom.storage import element_text

Record = Mapping[str, str | Sequence["Record"]]

# Keys that steer the query rather than select (PS3.4 §C.4.1.1.3.1, §K.6.1.2.2).
CONTROL_KEYS = {"QueryRetrieveLevel", "SpecificCharacterSet", "TimezoneOffsetFromUTC"}
_NO_WILDCARD_VRS = {"UI", "DA", "TM", "DT", "US", "UL", "SS", "SL", "FL", "FD", "IS", "DS", "AT"}
_RANGE_VRS = {"DA", "TM", "DT"}
_NUMERIC_VRS = {"US", "UL", "SS", "SL", "FL", "FD"}


@lru_cache(maxsize=512)
def _wildcard(pattern: str, fold: bool) -> re.Pattern[str]:
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(f"^{body}$", re.DOTALL | (re.IGNORECASE if fold else 0))


def _normal_time(value: str, vr: str) -> str:
    """Make DA/TM/DT values comparable as text: drop the old ':' and '.' separators, pad to full precision."""
    value = value.replace(":", "") if vr == "TM" else value
    if vr == "DA":
        return value.replace(".", "")[:8].ljust(8, "0")
    if vr == "TM":
        whole, _, frac = value.partition(".")
        return whole.ljust(6, "0") + "." + frac.ljust(6, "0")
    return value.ljust(14, "0")


def match_value(query: str, candidate: str, vr: str) -> bool:
    """Match one attribute value (both DICOM text) by the rules for ``vr`` (PS3.4 §C.2.2.2.1-§C.2.2.2.5)."""
    query = query.rstrip("\x00 ")
    if query == "" or query == "*":
        return True  # universal matching
    candidates = [c.strip() for c in candidate.split("\\")] if candidate else []
    if not candidates or candidates == [""]:
        return False
    for q in query.split("\\"):  # a list of values matches if any does (list of UID matching and its kin)
        q = q.strip()
        if vr in _RANGE_VRS and "-" in q:
            low, _, high = q.partition("-")
            for c in candidates:
                nc = _normal_time(c, vr)
                if (not low or nc >= _normal_time(low, vr)) and (not high or nc <= _normal_time(high, vr)):
                    return True
        elif vr not in _NO_WILDCARD_VRS and ("*" in q or "?" in q):
            rx = _wildcard(q, vr == "PN")
            if any(rx.match(c) for c in candidates):
                return True
        elif vr == "PN":
            if any(c.casefold() == q.casefold() for c in candidates):
                return True
        elif vr in _RANGE_VRS:
            if any(_normal_time(c, vr) == _normal_time(q, vr) for c in candidates):
                return True
        elif q in candidates:
            return True
    return False


def matches(identifier: Dataset, record: Record) -> bool:
    """True when ``record`` matches every matching key of ``identifier`` (PS3.4 §C.2.2.2)."""
    for elem in identifier:
        if elem.keyword in CONTROL_KEYS or not elem.keyword or elem.tag.group in (0x0000, 0x0002):
            continue
        value = record.get(elem.keyword)
        if elem.VR == "SQ":
            if not elem.value or len(elem.value) == 0:
                continue  # universal sequence matching
            item = elem.value[0]
            if not any(v for v in item):
                continue
            if not isinstance(value, list) or not any(matches(item, sub) for sub in value):
                return False
            continue
        query = element_text(elem.value)
        if query.rstrip("\x00 ") in ("", "*"):
            continue
        if not isinstance(value, str) or not match_value(query, value, elem.VR):
            return False
    return True


def response(identifier: Dataset, record: Record, extra: Mapping[str, str] | None = None) -> Dataset:
    """The C-FIND response identifier: the requested keys with the record's values (PS3.4 §C.4.1.1.3.2)."""
    ds = Dataset()
    for elem in identifier:
        if not elem.keyword or elem.tag.group in (0x0000, 0x0002):
            continue
        keyword = elem.keyword
        if keyword == "QueryRetrieveLevel":
            ds.QueryRetrieveLevel = elem.value
            continue
        if keyword == "SpecificCharacterSet":
            continue
        value: Any = (extra or {}).get(keyword, record.get(keyword))
        if elem.VR == "SQ":
            items: list[Dataset] = []
            if isinstance(value, list) and elem.value and len(elem.value):
                query_item = elem.value[0]
                items = [response(query_item, sub) for sub in value if matches(query_item, sub)]
            ds.add(DataElement(elem.tag, "SQ", items))
            continue
        text = value if isinstance(value, str) else ""
        ds.add(DataElement(elem.tag, elem.VR, _typed(text, elem.VR)))
    if any(not _ascii(elem.value) for elem in ds if elem.VR not in ("SQ",)):
        ds.SpecificCharacterSet = "ISO_IR 192"
    return ds


def _typed(text: str, vr: str) -> Any:
    if not text:
        return None
    if vr in _NUMERIC_VRS:
        try:
            numbers = [float(v) if vr in ("FL", "FD") else int(v) for v in text.split("\\")]
        except ValueError:
            return None
        return numbers[0] if len(numbers) == 1 else numbers
    return text


def _ascii(value: Any) -> bool:
    try:
        element_text(value).encode("ascii")
    except UnicodeEncodeError:
        return False
    return True


def dataset_record(ds: Dataset) -> dict[str, Any]:
    """A data set as a record (used for worklist items), sequences included."""
    out: dict[str, Any] = {}
    for elem in ds:
        if not elem.keyword:
            continue
        if elem.VR == "SQ":
            out[elem.keyword] = [dataset_record(item) for item in elem.value]
        else:
            out[elem.keyword] = element_text(elem.value).rstrip("\x00 ")
    return out

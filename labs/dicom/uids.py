"""UID validation (PS3.5 §9.1): a UID is digits and dots, at most 64 characters, no empty or zero-led
components. A UID that passes is safe to use as a file name; nothing else ever is."""

from __future__ import annotations

import re

_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")


def is_valid_uid(value: object) -> bool:
    """True for a UID that may be used as a file name (PS3.5 §9.1 syntax, ≤ 64 characters).

    Leading zeros in components are tolerated (many devices send them) but they cannot form a path.
    """
    return isinstance(value, str) and 0 < len(value) <= 64 and _UID.fullmatch(value) is not None


def clean_uid(value: object) -> str | None:
    """The UID with DICOM padding (trailing NUL or space) removed, or None when it is not a valid UID."""
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return None
    if not isinstance(value, str):
        value = str(value) if value is not None else ""
    value = value.rstrip("\x00 ")
    return value if is_valid_uid(value) else None

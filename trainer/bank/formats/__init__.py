"""Import/export formats. Each format turns text into canonical ``ItemIn`` objects (with located problems)
and back. Register a format in ``FORMATS``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from trainer.bank.formats import native
from trainer.bank.schema import ItemIn, Problem


@dataclass(frozen=True)
class Format:
    name: str
    label: str
    extension: str
    parse: Callable[[str], tuple[list[ItemIn], list[Problem]]]
    dump: Callable[[list[ItemIn]], str]


FORMATS: dict[str, Format] = {
    "native": Format("native", "PACS Trainer YAML", "yaml", native.parse_native, native.dump_native),
}


def get_format(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown format {name!r}; choose one of {', '.join(sorted(FORMATS))}") from None

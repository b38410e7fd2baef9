"""CSV: one row per item, for spreadsheets (see docs/BANK-FORMAT.md, "CSV"). Every field but the history
round-trips. Lists inside a cell are separated by ``;`` and their parts by ``|`` (``\\;``, ``\\|`` and ``\\\\``
escape those characters)."""

from __future__ import annotations

import csv
import io
import re
from string import ascii_lowercase
from typing import Any

from trainer.bank.formats.common import Place, build_item, number_text, parse_number, unique_ids
from trainer.bank.models import ItemType
from trainer.bank.schema import ItemIn, Problem

MIN_OPTION_COLUMNS = 6  # option_a … option_f are always written
HEAD = ("id", "type", "stem")
TAIL = (
    "answer",
    "tolerance",
    "unit",
    "rationale",
    "references",
    "domains",
    "tags",
    "difficulty",
    "level",
    "status",
    "media",
    "generated",
)
OPTION_PARTS = ("option", "correct", "match", "rationale")
REQUIRED = ("id", "type", "stem")
_OPTION_COLUMN = re.compile(r"(option|correct|match|rationale)_([a-z])")
_YES = {"x", "1", "y", "yes", "true", "t", "correct"}
_NO = {"", "0", "n", "no", "false", "f"}
_REFERENCE_PARTS = ("standard", "section", "title", "url")
_MEDIA_PARTS = ("file", "alt", "render")


def header(option_count: int = MIN_OPTION_COLUMNS) -> list[str]:
    letters = ascii_lowercase[: max(option_count, MIN_OPTION_COLUMNS)]
    return [*HEAD, *(f"{part}_{x}" for x in letters for part in OPTION_PARTS), *TAIL]


# ------------------------------------------------------------------------------------------- packed cells


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace("|", "\\|")


def pack(entries: list[list[str]]) -> str:
    """``[["DICOM PS3.4", "A.4", ""]] -> "DICOM PS3.4|A.4"`` (trailing empty parts dropped)."""
    out = []
    for parts in entries:
        while parts and not parts[-1]:
            parts = parts[:-1]
        out.append("|".join(_escape(p) for p in parts))
    return ";".join(out)


def unpack(cell: str) -> list[list[str]]:
    """The entries of a packed cell, each a list of stripped parts; empty entries are dropped."""
    entries: list[list[str]] = []
    parts: list[str] = []
    current: list[str] = []
    chars = iter(cell)
    for c in chars:
        if c == "\\":
            current.append(next(chars, "\\"))
        elif c == "|":
            parts.append("".join(current).strip())
            current = []
        elif c == ";":
            parts.append("".join(current).strip())
            entries.append(parts)
            parts, current = [], []
        else:
            current.append(c)
    parts.append("".join(current).strip())
    entries.append(parts)
    return [e for e in entries if any(e)]


# ------------------------------------------------------------------------------------------------- import


def _normalise(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().lower())


def _known(column: str) -> bool:
    return column in HEAD or column in TAIL or bool(_OPTION_COLUMN.fullmatch(column))


def parse_csv(text: str) -> tuple[list[ItemIn], list[Problem]]:
    # Line breaks inside quoted cells come back as "\n", whatever the file used.
    reader = csv.reader(io.StringIO(text.replace("\r\n", "\n"), newline=""))
    problems: list[Problem] = []
    located: list[tuple[ItemIn, Place]] = []
    columns: list[str] | None = None
    try:
        start = 1
        for record in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue  # blank lines and rows of empty cells
            if columns is None:
                columns, header_problems = _read_header(record, line)
                problems += header_problems
                if header_problems:
                    return [], problems
                continue
            item, row_problems = _read_row(columns, record, Place(line=line))
            problems += row_problems
            if item is not None:
                located.append((item, Place(line=line)))
    except csv.Error as exc:
        problems.append(Problem("", f"not valid CSV: {exc}", reader.line_num or None))
    if columns is None and not problems:
        problems.append(
            Problem("", "the file is empty: expected a header row (id,type,stem,…) and one row per item", 1)
        )
    problems += unique_ids(located)
    return ([], problems) if problems else ([item for item, _ in located], [])


def _read_header(record: list[str], line: int) -> tuple[list[str], list[Problem]]:
    columns = [_normalise(c) for c in record]
    problems = []
    for raw, column in zip(record, columns, strict=True):
        if not _known(column):
            problems.append(Problem("", f"unknown column {raw.strip()!r} in the header", line))
    for column in sorted({c for c in columns if columns.count(c) > 1}):
        problems.append(Problem("", f"the column {column!r} appears twice in the header", line))
    for column in REQUIRED:
        if column not in columns:
            problems.append(Problem("", f"the header lacks the column {column!r}", line))
    return columns, problems


def _cell_flag(value: str, column: str, place: Place, problems: list[Problem]) -> bool:
    word = value.strip().lower()
    if word in _YES:
        return True
    if word not in _NO:
        problems.append(place.problem(f"column {column}: {value!r} is not a yes/no value (use x or leave it empty)"))
    return False


def _cell_number(value: str, column: str, place: Place, problems: list[Problem]) -> float | None:
    if not value.strip():
        return None
    number = parse_number(value)
    if number is None:
        problems.append(place.problem(f"column {column}: {value.strip()!r} is not a number"))
    return number


def _read_row(columns: list[str], record: list[str], place: Place) -> tuple[ItemIn | None, list[Problem]]:
    problems: list[Problem] = []
    if len(record) > len(columns) and any(c.strip() for c in record[len(columns) :]):
        problems.append(place.problem(f"the row has {len(record)} cells but the header names {len(columns)} columns"))
    row = dict(zip(columns, record, strict=False))

    def cell(name: str) -> str:
        return row.get(name, "")

    item_type = cell("type").strip().lower()
    data: dict[str, Any] = {"id": cell("id").strip(), "type": item_type, "stem": cell("stem")}
    label = f"item {data['id']}" if data["id"] else "an item"

    options: list[dict[str, Any]] = []
    pairs: list[dict[str, Any]] = []
    letters = sorted({m.group(2) for c in columns if (m := _OPTION_COLUMN.fullmatch(c))})
    gap = ""
    for x in letters:
        text, correct, match, rationale = (cell(f"{part}_{x}") for part in OPTION_PARTS)
        if not text.strip():
            if correct.strip() or match.strip() or rationale.strip():
                problems.append(place.problem(f"{label}: option_{x} is empty but its other columns are filled"))
            gap = gap or x
            continue
        if gap:
            problems.append(place.problem(f"{label}: option_{gap} is empty but option_{x} is filled; leave no gaps"))
            gap = ""
        flag = _cell_flag(correct, f"correct_{x}", place, problems)
        if item_type == ItemType.MATCHING:
            if correct.strip():
                problems.append(
                    place.problem(
                        f"{label}: a matching item pairs option_{x} with match_{x}; correct_{x} must be empty"
                    )
                )
            pairs.append({"prompt": text, "answer": match, "rationale": rationale})
        else:
            if match.strip():
                problems.append(place.problem(f"{label}: match_{x} is for matching items only"))
            options.append({"text": text, "correct": flag, "rationale": rationale})
    if options:
        data["options"] = options
    if pairs:
        data["pairs"] = pairs

    for name in ("answer", "tolerance"):
        number = _cell_number(cell(name), name, place, problems)
        if number is not None:
            data[name] = number
    if cell("unit").strip():
        data["unit"] = cell("unit").strip()
    data["rationale"] = cell("rationale")
    data["references"] = _entries(cell("references"), _REFERENCE_PARTS, "references", place, problems)
    data["media"] = _entries(cell("media"), _MEDIA_PARTS, "media", place, problems)
    data["domains"] = []
    for entry in unpack(cell("domains")):
        track, slash, domain = "|".join(entry).partition("/")
        if not slash or len(entry) > 1:
            problems.append(place.problem(f"column domains: {'|'.join(entry)!r} is not TRACK/domain"))
        else:
            data["domains"].append({"track": track.strip(), "domain": domain.strip()})
    data["tags"] = ["|".join(entry) for entry in unpack(cell("tags"))]
    for name in ("difficulty", "level", "status"):
        if cell(name).strip():
            data[name] = cell(name).strip().lower()
    data["generated"] = _cell_flag(cell("generated"), "generated", place, problems)

    item, item_problems = build_item(data, place, field_name=_column)
    problems += item_problems
    return (None if problems else item), problems


def _entries(
    cell: str, parts: tuple[str, ...], column: str, place: Place, problems: list[Problem]
) -> list[dict[str, str]]:
    out = []
    for entry in unpack(cell):
        if len(entry) > len(parts):
            problems.append(
                place.problem(f"column {column}: {entry!r} has more than {len(parts)} parts ({'|'.join(parts)})")
            )
            continue
        out.append({k: v for k, v in zip(parts, entry, strict=False) if v})
    return out


def _column(loc: tuple[int | str, ...]) -> str:
    """The CSV column a schema error is about."""
    head = str(loc[0])
    if head in {"options", "pairs"} and len(loc) >= 2 and isinstance(loc[1], int):
        x = ascii_lowercase[loc[1]] if loc[1] < len(ascii_lowercase) else "?"
        part = str(loc[2]) if len(loc) > 2 else "text"
        name = {"text": "option", "prompt": "option", "answer": "match"}.get(part, part)
        return f"column {name}_{x}"
    if head in {"references", "media", "domains"} and len(loc) >= 2 and isinstance(loc[1], int):
        return f"column {head}, entry {loc[1] + 1}"
    return f"column {head}"


# ------------------------------------------------------------------------------------------------- export


def dump_csv(items: list[ItemIn]) -> tuple[str, list[Problem]]:
    widest = max((max(len(i.options), len(i.pairs)) for i in items), default=0)
    columns = header(widest)
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    for item in items:
        writer.writerow(_row(item))
    return out.getvalue(), []


def _row(item: ItemIn) -> dict[str, str]:
    row = {"id": item.id, "type": item.type.value, "stem": item.stem, "rationale": item.rationale}
    for i, option in enumerate(item.options):
        x = ascii_lowercase[i]
        row |= {f"option_{x}": option.text, f"correct_{x}": "x" if option.correct else ""}
        row[f"rationale_{x}"] = option.rationale
    for i, pair in enumerate(item.pairs):
        x = ascii_lowercase[i]
        row |= {f"option_{x}": pair.prompt, f"match_{x}": pair.answer, f"rationale_{x}": pair.rationale}
    if item.answer is not None:
        row["answer"] = number_text(item.answer)
    if item.tolerance is not None:
        row["tolerance"] = number_text(item.tolerance)
    row["unit"] = item.unit or ""
    row["references"] = pack([[r.standard, r.section, r.title, r.url] for r in item.references])
    row["media"] = pack([[m.file, m.alt, "" if m.render == "image" else m.render] for m in item.media])
    row["domains"] = pack([[f"{d.track}/{d.domain}"] for d in item.domains])
    row["tags"] = pack([[t] for t in item.tags])
    row |= {"difficulty": item.difficulty.value, "level": item.level.value, "status": item.status.value}
    row["generated"] = "x" if item.generated else ""
    return row

"""Item families generated from the DICOM data pydicom ships: the data dictionary (PS3.6 Table 6-1: tag, name,
keyword, VR, VM) and the UID registry (PS3.6 Table A-1: transfer syntaxes, SOP classes).

Every item is checked against the dictionary it comes from: retired entries, names shared by several entries and
attributes with more than one VR are never asked about, and a distractor is always another entry's value, so it
cannot also be right. Distractors are plausible: tags of neighbouring attributes in the same group, VRs of the
same kind, sibling transfer syntaxes and SOP classes with neighbouring UIDs. Each option has a rationale that
says what it really is. Every item passes the linter with no finding; a candidate that would not is skipped.

Ids are ``gen-<family>-<subject>``: the subject is the tag as eight hex digits or the UID with dots as dashes, so
an item about the same subject keeps its id (and its content: it depends on the subject, not on the seed). The
seed only picks which subjects; the same seed picks the same ones.
"""

from __future__ import annotations

import functools
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import combinations
from typing import Any

from pydicom.datadict import DicomDictionary  # type: ignore[attr-defined]  # re-exported from _dicom_dict
from pydicom.uid import UID_dictionary  # type: ignore[attr-defined]  # re-exported from _uid_dict
from rapidfuzz import fuzz, process

from trainer.bank.linter import NEAR_DUPLICATE_SCORE, _comparable_stem, lint_item
from trainer.bank.schema import ItemIn

PS36_URL = "https://dicom.nema.org/medical/dicom/current/output/html/part06.html"
PS35_URL = "https://dicom.nema.org/medical/dicom/current/output/html/part05.html"
REF_DICTIONARY = {
    "standard": "DICOM PS3.6",
    "section": "Table 6-1",
    "title": "Registry of DICOM Data Elements",
    "url": PS36_URL,
}
REF_UIDS = {"standard": "DICOM PS3.6", "section": "Table A-1", "title": "UID Values", "url": PS36_URL}
REF_VRS = {"standard": "DICOM PS3.5", "section": "Table 6.2-1", "title": "DICOM Value Representations", "url": PS35_URL}

# PS3.5 Table 6.2-1, in the project's words: VR code → (name, what it holds).
VR_TABLE: dict[str, tuple[str, str]] = {
    "AE": ("Application Entity", "an AE title: up to 16 characters naming a DICOM application entity"),
    "AS": ("Age String", "an age in 4 characters: three digits and D, W, M or Y (for example 045Y)"),
    "AT": ("Attribute Tag", "a data element tag, stored as two 16-bit unsigned integers (group, element)"),
    "CS": ("Code String", "a code of up to 16 characters: upper-case letters, digits, space and underscore"),
    "DA": ("Date", "a date as YYYYMMDD"),
    "DS": ("Decimal String", "a decimal number written as a string of up to 16 characters"),
    "DT": ("Date Time", "a date and time as YYYYMMDDHHMMSS.FFFFFF with an optional offset from UTC"),
    "FD": ("Floating Point Double", "a 64-bit IEEE 754 binary floating point number"),
    "FL": ("Floating Point Single", "a 32-bit IEEE 754 binary floating point number"),
    "IS": ("Integer String", "an integer written as a string of up to 12 characters"),
    "LO": ("Long String", "a character string of up to 64 characters"),
    "LT": ("Long Text", "free text of up to 10240 characters, which may hold paragraphs"),
    "OB": ("Other Byte", "a stream of bytes whose encoding the transfer syntax sets"),
    "OD": ("Other Double", "a stream of 64-bit IEEE 754 floating point values"),
    "OF": ("Other Float", "a stream of 32-bit IEEE 754 floating point values"),
    "OL": ("Other Long", "a stream of 32-bit words"),
    "OV": ("Other 64-bit Very Long", "a stream of 64-bit words"),
    "OW": ("Other Word", "a stream of 16-bit words, byte-swapped according to the transfer syntax"),
    "PN": ("Person Name", "a person's name: family, given, middle, prefix and suffix components separated by ^"),
    "SH": ("Short String", "a character string of up to 16 characters"),
    "SL": ("Signed Long", "a 32-bit signed binary integer"),
    "SS": ("Signed Short", "a 16-bit signed binary integer"),
    "ST": ("Short Text", "free text of up to 1024 characters"),
    "SV": ("Signed 64-bit Very Long", "a 64-bit signed binary integer"),
    "TM": ("Time", "a time of day as HHMMSS.FFFFFF"),
    "UC": ("Unlimited Characters", "a character string of unlimited length that may have several values"),
    "UI": ("Unique Identifier (UID)", "a UID: numeric components separated by dots, at most 64 characters"),
    "UL": ("Unsigned Long", "a 32-bit unsigned binary integer"),
    "UN": ("Unknown", "bytes whose VR is not known"),
    "UR": ("Universal Resource Identifier or Locator", "a URI or URL"),
    "US": ("Unsigned Short", "a 16-bit unsigned binary integer"),
    "UT": ("Unlimited Text", "free text of unlimited length"),
    "UV": ("Unsigned 64-bit Very Long", "a 64-bit unsigned binary integer"),
}

# For each VR, the VRs a learner could plausibly confuse it with (same kind of value).
VR_CONFUSABLE: dict[str, tuple[str, ...]] = {
    "AE": ("CS", "SH", "LO", "UI"),
    "AS": ("DA", "IS", "CS", "SH"),
    "AT": ("UL", "US", "UI", "SH"),
    "CS": ("SH", "LO", "UC", "ST"),
    "DA": ("DT", "TM", "AS", "DS"),
    "DS": ("IS", "FD", "FL", "US"),
    "DT": ("DA", "TM", "AS", "LO"),
    "FD": ("FL", "DS", "OD", "SL"),
    "FL": ("FD", "DS", "OF", "US"),
    "IS": ("DS", "US", "SL", "UL"),
    "LO": ("SH", "LT", "CS", "UC"),
    "LT": ("ST", "UT", "LO", "UC"),
    "OB": ("OW", "UN", "OF", "OD"),
    "OD": ("OF", "FD", "OB", "OW"),
    "OF": ("OD", "FL", "OW", "OB"),
    "OL": ("OV", "UL", "OW", "OB"),
    "OV": ("OL", "UV", "OB", "OW"),
    "OW": ("OB", "OF", "UN", "US"),
    "PN": ("LO", "SH", "CS", "ST"),
    "SH": ("LO", "CS", "ST", "UC"),
    "SL": ("SS", "UL", "SV", "IS"),
    "SS": ("US", "SL", "IS", "DS"),
    "ST": ("LT", "SH", "UT", "LO"),
    "SV": ("UV", "SL", "FD", "IS"),
    "TM": ("DT", "DA", "DS", "SH"),
    "UC": ("UT", "LO", "CS", "ST"),
    "UI": ("LO", "SH", "CS", "UR"),
    "UL": ("US", "SL", "UV", "IS"),
    "UN": ("OB", "OW", "UT", "LT"),
    "UR": ("UT", "UI", "LO", "ST"),
    "US": ("SS", "UL", "IS", "OW"),
    "UT": ("LT", "ST", "UC", "UR"),
    "UV": ("SV", "UL", "FD", "IS"),
}

# Groups of the data dictionary that PS3.6 Table 6-1 does not hold: command (PS3.7), file meta (PS3.6 Table 7-1),
# directory (Table 8-1) and the item delimiters.
EXCLUDED_GROUPS = {0x0000, 0x0002, 0x0004, 0xFFFA, 0xFFFC, 0xFFFE}
COMMON_GROUPS = {0x0008, 0x0010, 0x0018, 0x0020, 0x0028, 0x0032, 0x0040}
DOMAINS_DATA_MODEL = [{"track": "CDIP", "domain": "data-model"}, {"track": "CIIP", "domain": "image-management"}]
DOMAINS_ENCODING = [{"track": "CDIP", "domain": "encoding"}, {"track": "CIIP", "domain": "image-management"}]


class GeneratorError(ValueError):
    pass


@dataclass(frozen=True)
class Attribute:
    tag: int
    vr: str
    vm: str
    name: str
    keyword: str

    @property
    def tag_text(self) -> str:
        return f"({self.tag >> 16:04X},{self.tag & 0xFFFF:04X})"

    @property
    def subject(self) -> str:
        return f"{self.tag:08x}"


@dataclass(frozen=True)
class Uid:
    uid: str
    name: str
    info: str

    @property
    def subject(self) -> str:
        return self.uid.replace(".", "-")


def _normal(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.lower()).strip()


def _uid_key(uid: str) -> tuple[int, ...]:
    return tuple(int(p) for p in uid.split("."))


@cache
def attributes() -> tuple[Attribute, ...]:
    """Data elements that can be asked about: current (not retired), in PS3.6 Table 6-1, with a keyword, and
    with a name and keyword no other entry (retired ones included) has, even after normalising punctuation."""
    names = Counter(_normal(v[2]) for v in DicomDictionary.values())
    keywords = Counter(v[4] for v in DicomDictionary.values())
    found = [
        Attribute(tag, vr, vm, name, keyword)
        for tag, (vr, vm, name, retired, keyword) in DicomDictionary.items()
        if not retired
        and keyword
        and name
        and (tag >> 16) not in EXCLUDED_GROUPS
        and names[_normal(name)] == 1
        and keywords[keyword] == 1
    ]
    return tuple(sorted(found, key=lambda a: a.tag))


@cache
def uids(kind: str) -> tuple[Uid, ...]:
    """Current UIDs of one kind ("Transfer Syntax", "SOP Class") whose name no other UID has, in UID order."""
    names = Counter(_normal(v[0]) for v in UID_dictionary.values())
    found = [
        Uid(str(uid), name, info)
        for uid, (name, uid_type, info, retired, _keyword) in UID_dictionary.items()
        if uid_type == kind and not retired and names[_normal(name)] == 1
    ]
    return tuple(sorted(found, key=lambda u: _uid_key(u.uid)))


def _neighbours(pool: tuple[Attribute, ...] | tuple[Uid, ...], index: int, n: int) -> list[int]:
    """Indexes of the ``n`` entries nearest to ``index`` in the pool's order (not itself)."""
    order = sorted((i for i in range(len(pool)) if i != index), key=lambda i: (abs(i - index), i))
    return order[:n]


def _vr_text(vr: str) -> str:
    return f"{vr} ({VR_TABLE[vr][0]})"


@dataclass(frozen=True)
class Choice:
    text: str
    rationale: str


def _item(
    *,
    family: str,
    subject: str,
    stem: str,
    key: Choice,
    distractors: list[Choice],
    rationale: str,
    references: list[dict[str, str]],
    domains: list[dict[str, str]],
    tags: list[str],
    difficulty: str,
    rng: random.Random,
) -> ItemIn:
    position = rng.randrange(len(distractors) + 1)
    options = [{"text": d.text, "correct": False, "rationale": d.rationale} for d in distractors]
    options.insert(position, {"text": key.text, "correct": True, "rationale": key.rationale})
    return ItemIn.model_validate(
        {
            "id": f"gen-{family}-{subject}",
            "type": "single",
            "stem": stem,
            "options": options,
            "rationale": rationale,
            "references": references,
            "domains": domains,
            "tags": ["generated", *tags],
            "difficulty": difficulty,
            "level": "recall",
            "status": "published",
            "generated": True,
        }
    )


def _clean(item: ItemIn) -> bool:
    return not lint_item(item)


def _first_clean(sets: Iterator[list[int]], pool: Sequence[Any], build: Callable[[list[Any]], ItemIn]) -> ItemIn | None:
    """The first item built from a distractor set (indexes into ``pool``) that the linter finds nothing in."""
    for chosen in sets:
        item = build([pool[i] for i in chosen])
        if _clean(item):
            return item
    return None


def _distractor_sets(candidates: list[int], rng: random.Random, size: int = 3) -> Iterator[list[int]]:
    """Sets of distractor indexes: the nearest first, then other combinations of the candidates, shuffled by the
    item's own random source."""
    first = candidates[:size]
    yield first
    others = [list(c) for c in combinations(candidates, size) if list(c) != first]
    rng.shuffle(others)
    yield from others[:40]


# ---------------------------------------------------------------------------------------------- the families


def _difficulty(attr: Attribute) -> str:
    return "medium" if attr.tag >> 16 in COMMON_GROUPS else "hard"


def _tag_question(attr: Attribute, rng: random.Random) -> dict[str, Any]:
    """What the tag ↔ attribute families share: the dictionary reference, domains, tags, difficulty."""
    return {
        "references": [REF_DICTIONARY],
        "domains": DOMAINS_DATA_MODEL,
        "tags": ["data-dictionary", "tags"],
        "difficulty": _difficulty(attr),
        "rng": rng,
    }


def family_tag(index: int) -> ItemIn | None:
    """Which tag holds <name>? Distractors: tags of neighbouring attributes (same group where possible)."""
    pool = attributes()
    attr = pool[index]
    rng = random.Random(f"tag:{attr.subject}")  # noqa: S311 - item layout, not security
    nearest = _neighbours(pool, index, 8)
    same_group = [i for i in nearest if pool[i].tag >> 16 == attr.tag >> 16]
    near = same_group if len(same_group) >= 3 else nearest

    def build(others: list[Any]) -> ItemIn:
        return _item(
            family="tag",
            subject=attr.subject,
            stem=f"Which data element tag holds the attribute **{attr.name}** (keyword `{attr.keyword}`)?",
            key=Choice(
                attr.tag_text,
                f"{attr.tag_text} is {attr.name} (`{attr.keyword}`), VR {attr.vr}, VM {attr.vm}.",
            ),
            distractors=[
                Choice(o.tag_text, f"{o.tag_text} is {o.name} (`{o.keyword}`), a different attribute.") for o in others
            ],
            rationale=(
                f"PS3.6 Table 6-1 registers {attr.name} (keyword `{attr.keyword}`) at tag {attr.tag_text}, "
                f"with VR {attr.vr} and VM {attr.vm}. The other tags are neighbours in the registry that hold "
                "other attributes."
            ),
            **_tag_question(attr, rng),
        )

    return _first_clean(_distractor_sets(near, rng), pool, build)


def family_attribute(index: int) -> ItemIn | None:
    """Which attribute is at (gggg,eeee)? Distractors: names of neighbouring attributes."""
    pool = attributes()
    attr = pool[index]
    rng = random.Random(f"attribute:{attr.subject}")  # noqa: S311 - item layout, not security
    near = _neighbours(pool, index, 8)

    def build(others: list[Any]) -> ItemIn:
        return _item(
            family="attribute",
            subject=attr.subject,
            stem=f"Which attribute does the data element tag **{attr.tag_text}** hold?",
            key=Choice(attr.name, f"{attr.name} (`{attr.keyword}`) is registered at {attr.tag_text}."),
            distractors=[
                Choice(o.name, f"{o.name} (`{o.keyword}`) is at {o.tag_text}, not {attr.tag_text}.") for o in others
            ],
            rationale=(
                f"PS3.6 Table 6-1 registers tag {attr.tag_text} as {attr.name} (keyword `{attr.keyword}`, "
                f"VR {attr.vr}, VM {attr.vm}). The other attributes sit at neighbouring tags."
            ),
            **_tag_question(attr, rng),
        )

    return _first_clean(_distractor_sets(near, rng), pool, build)


def family_vr(index: int) -> ItemIn | None:
    """What is the VR of <attribute>? Only attributes with one VR (not "US or SS"), no sequences (their names
    give the answer away). Distractors: VRs of the same kind of value."""
    pool = attributes()
    attr = pool[index]
    if attr.vr not in VR_CONFUSABLE:
        return None
    rng = random.Random(f"vr:{attr.subject}")  # noqa: S311 - item layout, not security
    confusable = list(VR_CONFUSABLE[attr.vr])

    def build(others: list[Any]) -> ItemIn:
        return _item(
            family="vr",
            subject=attr.subject,
            stem=f"What is the value representation (VR) of the attribute **{attr.name}** (keyword `{attr.keyword}`)?",
            key=Choice(_vr_text(attr.vr), f"{attr.vr} holds {VR_TABLE[attr.vr][1]}; PS3.6 gives {attr.name} this VR."),
            distractors=[
                Choice(
                    _vr_text(vr), f"{vr} holds {VR_TABLE[vr][1]}; PS3.6 gives {attr.name} the VR {attr.vr}, not {vr}."
                )
                for vr in others
            ],
            rationale=(
                f"PS3.6 Table 6-1 gives {attr.name} (tag {attr.tag_text}) the VR {attr.vr}, {VR_TABLE[attr.vr][0]}: "
                f"{VR_TABLE[attr.vr][1]} (PS3.5 Table 6.2-1)."
            ),
            references=[REF_DICTIONARY, REF_VRS],
            domains=DOMAINS_ENCODING,
            tags=["data-dictionary", "vr"],
            difficulty=_difficulty(attr),
            rng=rng,
        )

    return _first_clean(_distractor_sets(list(range(len(confusable))), rng), confusable, build)


def _uid_note(u: Uid) -> str:
    return f" ({u.info})" if u.info else ""


@dataclass(frozen=True)
class UidQuestion:
    """How a family asks about a UID registry entry (transfer syntax or SOP class) and writes its options: one
    builder serves every UID family, the entries' neighbours in the registry being the distractors."""

    family: str
    kind: str  # the UID registry's type: "Transfer Syntax", "SOP Class"
    stem: Callable[[Uid], str]
    option: Callable[[Uid], str]  # what an option shows of an entry
    key_why: Callable[[Uid], str]
    other_why: Callable[[Uid], str]
    rationale: Callable[[Uid], str]
    domains: list[dict[str, str]]
    tags: list[str]
    difficulty: str


def _uid_item(question: UidQuestion, index: int) -> ItemIn | None:
    pool = uids(question.kind)
    entry = pool[index]
    rng = random.Random(f"{question.family}:{entry.subject}")  # noqa: S311 - item layout, not security

    def build(others: list[Any]) -> ItemIn:
        return _item(
            family=question.family,
            subject=entry.subject,
            stem=question.stem(entry),
            key=Choice(question.option(entry), question.key_why(entry)),
            distractors=[Choice(question.option(o), question.other_why(o)) for o in others],
            rationale=question.rationale(entry),
            references=[REF_UIDS],
            domains=question.domains,
            tags=question.tags,
            difficulty=question.difficulty,
            rng=rng,
        )

    return _first_clean(_distractor_sets(_neighbours(pool, index, 6), rng), pool, build)


def _uid_code(u: Uid) -> str:
    return f"`{u.uid}`"


_ts_question = functools.partial(  # what both transfer-syntax families share
    UidQuestion,
    kind="Transfer Syntax",
    key_why=lambda u: f"`{u.uid}` is {u.name}{_uid_note(u)}.",
    domains=DOMAINS_ENCODING,
    tags=["transfer-syntax", "uid"],
)

UID_QUESTIONS = {
    q.family: q
    for q in (
        _ts_question(  # Which transfer syntax has UID <uid>?
            family="ts-name",
            stem=lambda u: f"Which transfer syntax has the UID `{u.uid}`?",
            option=lambda u: u.name,
            other_why=lambda u: f"{u.name} has the UID `{u.uid}`.",
            rationale=lambda u: f"PS3.6 Table A-1 lists `{u.uid}` as the transfer syntax {u.name}{_uid_note(u)}.",
            difficulty="medium",
        ),
        _ts_question(  # What is the UID of the transfer syntax <name>?
            family="ts-uid",
            stem=lambda u: f"What is the UID of the transfer syntax **{u.name}**?",
            option=_uid_code,
            other_why=lambda u: f"`{u.uid}` is {u.name}.",
            rationale=lambda u: f"PS3.6 Table A-1 lists the transfer syntax {u.name} with the UID `{u.uid}`.",
            difficulty="hard",
        ),
        UidQuestion(  # What is the UID of the SOP class <name>?
            family="sop-uid",
            kind="SOP Class",
            stem=lambda u: f"Which UID identifies the SOP class **{u.name}**?",
            option=_uid_code,
            key_why=lambda u: f"`{u.uid}` is {u.name}.",
            other_why=lambda u: f"`{u.uid}` is {u.name}.",
            rationale=lambda u: f"PS3.6 Table A-1 lists the SOP class {u.name} with the UID `{u.uid}`.",
            domains=DOMAINS_DATA_MODEL,
            tags=["sop-class", "uid"],
            difficulty="hard",
        ),
    )
}


def uid_family(family: str) -> Callable[[int], ItemIn | None]:
    """The item maker of a UID family: ``index`` picks the entry in its registry kind."""
    return functools.partial(_uid_item, UID_QUESTIONS[family])


@dataclass(frozen=True)
class Family:
    name: str
    description: str
    make: Callable[[int], ItemIn | None]
    pool: Callable[[], tuple[Attribute, ...] | tuple[Uid, ...]]
    inverse: str = ""  # a family whose item on the same subject would give this one's answer away


def uid_family_entry(name: str, description: str, *, inverse: str = "") -> Family:
    kind = UID_QUESTIONS[name].kind
    return Family(name, description, uid_family(name), lambda: uids(kind), inverse=inverse)


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("tag", "Which tag holds <attribute>?", family_tag, attributes, inverse="attribute"),
        Family("attribute", "Which attribute is at (gggg,eeee)?", family_attribute, attributes, inverse="tag"),
        Family("vr", "What is the VR of <attribute>?", family_vr, attributes),
        uid_family_entry("ts-name", "Which transfer syntax has UID <uid>?", inverse="ts-uid"),
        uid_family_entry("ts-uid", "What is the UID of transfer syntax <name>?", inverse="ts-name"),
        uid_family_entry("sop-uid", "Which UID identifies SOP class <name>?"),
    )
}


def subject_of(item_id: str) -> tuple[str, str] | None:
    """(family, subject) of a generated id, or None."""
    for name in sorted(FAMILIES, key=len, reverse=True):
        prefix = f"gen-{name}-"
        if item_id.startswith(prefix):
            return name, item_id.removeprefix(prefix)
    return None


def generate_items(
    *, count: int, seed: int, families: Iterable[str] | None = None, existing_ids: Iterable[str] = (),
    avoid_stems: Iterable[str] = (),
) -> list[ItemIn]:  # fmt: skip
    """``count`` items spread evenly over the families, the subjects picked by ``seed``. Subjects whose inverse
    item exists (``existing_ids``, or earlier in this batch) are skipped, and so are items whose stem is a near
    duplicate of one in ``avoid_stems`` (the authored bank's)."""
    names = list(families) if families is not None else list(FAMILIES)
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        raise GeneratorError(f"unknown family {', '.join(unknown)}; choose from {', '.join(FAMILIES)}")
    if count < 1:
        raise GeneratorError("count must be at least 1")
    taken = {s for s in map(subject_of, existing_ids) if s is not None}
    avoid = [_comparable_stem(s) for s in avoid_stems]
    share = {n: count // len(names) + (i < count % len(names)) for i, n in enumerate(names)}
    items: list[ItemIn] = []
    for name in names:
        family = FAMILIES[name]
        order = list(range(len(family.pool())))
        random.Random(f"{seed}:{name}").shuffle(order)  # noqa: S311 - choice of subjects, not security
        made = 0
        for index in order:
            if made >= share[name]:
                break
            item = family.make(index)
            if item is None:
                continue
            fam_subject = subject_of(item.id)
            assert fam_subject is not None
            if family.inverse and (family.inverse, fam_subject[1]) in taken:
                continue
            if avoid and process.extractOne(
                _comparable_stem(item.stem), avoid, scorer=fuzz.token_sort_ratio, score_cutoff=NEAR_DUPLICATE_SCORE
            ):
                continue
            taken.add(fam_subject)
            items.append(item)
            made += 1
    return items

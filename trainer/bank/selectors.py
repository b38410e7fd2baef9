"""Reads for the bank: items as the canonical schema (for export), statistics, and for authoring: search,
lint, review queue, history and version diffs."""

from __future__ import annotations

import dataclasses
import difflib
import io
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from rapidfuzz import fuzz, process

from trainer.accounts.models import User
from trainer.bank.linter import NEAR_DUPLICATE_SCORE, Finding, LintReport, _comparable_stem, lint_bank, lint_item
from trainer.bank.models import (
    CognitiveLevel,
    Difficulty,
    Item,
    ItemDomain,
    ItemEvent,
    ItemStatus,
    ItemType,
    ItemVersion,
)
from trainer.bank.schema import DomainRef, EventIn, ItemIn, MediaIn, OptionIn, PairIn, ReferenceIn


def items_for_export(*, user: User | None = None) -> QuerySet[Item]:
    """Every item for an export; for a ``user`` (the pages and the API) without the items whose key is hidden from
    them because they are to review them blind (``item_key_hidden``). The command exports everything."""
    qs = Item.objects.select_related("current_version").prefetch_related(
        "item_domains__domain__track", "tags", "events"
    )
    if user is None:
        return qs
    in_review = Item.objects.filter(status=ItemStatus.IN_REVIEW).select_related("author")
    return qs.exclude(pk__in=[i.pk for i in in_review if item_key_hidden(item=i, user=user)])


def item_to_schema(item: Item) -> ItemIn:
    """The item's current version and metadata in the canonical form every exporter starts from."""
    v = item.current_version
    assert v is not None, f"item {item.external_id} has no version"
    return ItemIn(
        id=item.external_id,
        type=ItemType(item.type),
        stem=v.stem,
        options=[OptionIn(text=o["text"], correct=o["correct"], rationale=o["rationale"]) for o in v.options],
        pairs=[PairIn(prompt=p["prompt"], answer=p["answer"], rationale=p["rationale"]) for p in v.pairs],
        answer=v.answer,
        tolerance=v.tolerance,
        unit=v.unit or None,
        rationale=v.rationale,
        references=[ReferenceIn(**r) for r in v.references],
        media=[MediaIn(**m) for m in v.media],
        domains=[DomainRef(track=d.domain.track.code, domain=d.domain.code) for d in item.item_domains.all()],
        tags=[t.name for t in item.tags.all()],
        difficulty=Difficulty(item.difficulty),
        level=CognitiveLevel(item.level),
        status=ItemStatus(item.status),
        generated=item.generated,
        history=[
            EventIn(
                action=e.action,  # type: ignore[arg-type]  # the model's choices equal the schema's literal
                by=e.by_handle,
                date=e.date,
                blind_answer=e.blind_answer,
                verdict=e.verdict,
                notes=e.notes,
            )
            for e in item.events.all()
        ],
    )


def items_as_schema(items: Iterable[Item]) -> list[ItemIn]:
    return [item_to_schema(i) for i in items]


def bank_stats() -> dict[str, Any]:
    """Counts per track, domain, type, level and status (authored and generated items apart)."""
    items = list(Item.objects.values("id", "type", "level", "status", "generated", "difficulty"))
    status_of = {i["id"]: i["status"] for i in items}
    by_domain: Counter[str] = Counter()
    track_items: dict[str, set[int]] = {}
    for link in ItemDomain.objects.values("item_id", "domain__code", "domain__track__code"):
        track = link["domain__track__code"]
        by_domain[f"{track}/{link['domain__code']}"] += 1
        track_items.setdefault(track, set()).add(link["item_id"])
    by_track = {t: len(ids) for t, ids in track_items.items()}
    published_by_track = {t: sum(status_of[i] == "published" for i in ids) for t, ids in track_items.items()}
    return {
        "items": len(items),
        "authored": sum(1 for i in items if not i["generated"]),
        "generated": sum(1 for i in items if i["generated"]),
        "by_track": dict(sorted(by_track.items())),
        "published_by_track": dict(sorted(published_by_track.items())),
        "by_domain": dict(sorted(by_domain.items())),
        "by_type": dict(sorted(Counter(i["type"] for i in items).items())),
        "by_level": dict(sorted(Counter(i["level"] for i in items).items())),
        "by_status": dict(sorted(Counter(i["status"] for i in items).items())),
        "by_difficulty": dict(sorted(Counter(i["difficulty"] for i in items).items())),
    }


def blueprint_specs() -> list[tuple[str, str, dict[str, int]]]:
    """(code, track, {domain code: items}) for every blueprint, for the linter's coverage check."""
    from trainer.bank.models import Blueprint

    return [
        (bp.code, bp.track.code, {dc.domain.code: dc.items for dc in bp.domain_counts.all()})
        for bp in Blueprint.objects.select_related("track").prefetch_related("domain_counts__domain")
    ]


# ------------------------------------------------------------------------------------------------- authoring

ORIGINS = {"authored": False, "generated": True}


def items_search(
    *,
    q: str = "",
    track: str = "",
    domain: str = "",
    type: str = "",
    level: str = "",
    status: str = "",
    tag: str = "",
    origin: str = "",
) -> QuerySet[Item]:
    """The bank filtered for the authoring list and the API. ``domain`` is ``TRACK/code``; ``origin`` is
    ``authored`` or ``generated``; ``q`` is a full-text search on the stem (PostgreSQL's, with stemming; on
    SQLite every word must appear) that also matches ids. Related rows are prefetched, so listing a page costs
    the same few queries whatever its size."""
    qs = Item.objects.select_related("current_version", "author").prefetch_related(
        Prefetch("item_domains", queryset=ItemDomain.objects.select_related("domain__track")), "tags"
    )
    if track:
        qs = qs.filter(Exists(ItemDomain.objects.filter(item=OuterRef("pk"), domain__track__code=track)))
    if domain:
        track_code, _, domain_code = domain.partition("/")
        qs = qs.filter(
            Exists(
                ItemDomain.objects.filter(item=OuterRef("pk"), domain__track__code=track_code, domain__code=domain_code)
            )
        )
    if type:
        qs = qs.filter(type=type)
    if level:
        qs = qs.filter(level=level)
    if status:
        qs = qs.filter(status=status)
    if tag:
        qs = qs.filter(Exists(Item.tags.through.objects.filter(item_id=OuterRef("pk"), tag__name=tag)))
    if origin in ORIGINS:
        qs = qs.filter(generated=ORIGINS[origin])
    q = q.strip()
    if q:
        if connection.vendor == "postgresql":
            from django.contrib.postgres.search import SearchQuery, SearchVector

            qs = qs.annotate(search=SearchVector("current_version__stem", config="english")).filter(
                Q(search=SearchQuery(q, search_type="websearch", config="english")) | Q(external_id__icontains=q)
            )
        else:
            words = Q()
            for word in q.split():
                words &= Q(current_version__stem__icontains=word)
            qs = qs.filter(words | Q(external_id__icontains=q))
    return qs.order_by("external_id")


def item_for_authoring(*, external_id: str) -> Item:
    return (
        Item.objects.select_related("current_version", "author", "reviewer")
        .prefetch_related(Prefetch("item_domains", queryset=ItemDomain.objects.select_related("domain__track")), "tags")
        .get(external_id=external_id)
    )


def item_lint(item: Item) -> list[Finding]:
    """The linter's findings for one item, plus stems elsewhere in the bank that are near-duplicates of it."""
    data = item_to_schema(item)
    findings = lint_item(data)
    others_qs = Item.objects.exclude(pk=item.pk).exclude(status=ItemStatus.RETIRED).filter(type=item.type)
    if item.generated:  # generated items of a family share a template by design
        others_qs = others_qs.filter(generated=False)
    others = dict(others_qs.values_list("external_id", "current_version__stem"))
    if others and data.status != ItemStatus.RETIRED:
        stem = _comparable_stem(data.stem)
        choices = {k: _comparable_stem(v or "") for k, v in others.items()}
        for _, score, other in process.extract(
            stem, choices, scorer=fuzz.token_sort_ratio, score_cutoff=NEAR_DUPLICATE_SCORE, limit=5
        ):
            findings.append(
                Finding("near-duplicate-stem", "error", f"stem is {score:.0f}% similar to {other}", item.external_id)
            )
    return findings


# Findings that point at the key of one item ("the key is clearly the longest option"): not shown to someone
# who still has to answer that item blind.
KEY_CUE_RULES = frozenset({"key-longest", "absolute-words"})


def bank_lint(user: User | None = None) -> LintReport:
    """The whole bank through the linter, with blueprint coverage; for ``user``, without the key cues of the
    items whose key is hidden from them (``item_key_hidden``)."""
    report = lint_bank(items_as_schema(items_for_export()), blueprint_specs())
    if user is None:
        return report
    hidden = items_key_hidden(user)
    findings = [f for f in report.findings if not (f.rule in KEY_CUE_RULES and f.item in hidden)]
    return dataclasses.replace(report, findings=findings)


def items_key_hidden(user: User) -> set[str]:
    """External ids of the items whose key ``user`` may not see yet (``item_key_hidden`` for the whole bank)."""
    answered = ItemEvent.objects.filter(
        item=OuterRef("pk"), action=ItemEvent.Action.REVIEWED, by=user, version_id=OuterRef("current_version_id")
    )
    pending = Item.objects.filter(status=ItemStatus.IN_REVIEW).exclude(author=user)
    if user.username:
        pending = pending.exclude(author_handle=user.username)
    return set(pending.exclude(Exists(answered)).values_list("external_id", flat=True))


def review_queue() -> QuerySet[Item]:
    """Items waiting for review, oldest change first."""
    return (
        Item.objects.filter(status=ItemStatus.IN_REVIEW)
        .select_related("current_version", "author")
        .prefetch_related(Prefetch("item_domains", queryset=ItemDomain.objects.select_related("domain__track")))
        .order_by("updated")
    )


def item_is_author(*, item: Item, user: User) -> bool:
    """Authored by this user: the account that created it, or the handle an import recorded."""
    return item.author_id == user.pk or (bool(item.author_handle) and item.author_handle == user.username)


def item_review_refusal(*, item: Item, user: User) -> str:
    """Why ``user`` may not review ``item`` ('' when they may): its author, or someone who edited one of its
    versions — they have read its key, so their answer would not be blind."""
    if item_is_author(item=item, user=user):
        return "you wrote this item: another instructor must review it"
    edits = (ItemEvent.Action.DRAFTED, ItemEvent.Action.EDITED)
    if item.versions.filter(created_by=user).exists() or item.events.filter(action__in=edits, by=user).exists():
        return "you edited this item: another instructor must review it"
    return ""


def item_key_hidden(*, item: Item, user: User) -> bool:
    """The key is hidden from ``user``: the item is in review, they are not its author, and they have not yet
    answered its current version blind. Until then no page or API response shows them the key, the rationales,
    older versions or the review history (they could otherwise read the answer before giving their own)."""
    if item.status != ItemStatus.IN_REVIEW or item_is_author(item=item, user=user):
        return False
    return not ItemEvent.objects.filter(
        item=item, action=ItemEvent.Action.REVIEWED, by=user, version_id=item.current_version_id
    ).exists()


BLIND_FIRST = "you are to review this item blind: answer it on its review page before you can see its key"


def item_review_pending(*, item: Item, reviewer: User) -> ItemEvent | None:
    """The reviewer's blind answer to the current version, waiting for their verdict (None: not answered yet)."""
    return (
        ItemEvent.objects.filter(
            item=item, action=ItemEvent.Action.REVIEWED, by=reviewer, version=item.current_version, verdict=""
        )
        .order_by("-id")
        .first()
    )


def item_history(item: Item) -> QuerySet[ItemEvent]:
    return item.events.select_related("version", "by").order_by("created", "id")


def item_versions(item: Item) -> QuerySet[ItemVersion]:
    return item.versions.select_related("created_by").order_by("-number")


def blind_answer_text(version: ItemVersion | None, item_type: str, blind: Any) -> str:
    """A recorded blind answer in words: option letters (with the option text), or the number given."""
    if blind is None or version is None:
        return ""
    if item_type == ItemType.NUMERIC or not isinstance(blind, list):
        return f"{blind} {version.unit}".strip()
    rows = version.pairs if item_type == ItemType.MATCHING else version.options
    if item_type == ItemType.MATCHING:
        return "; ".join(
            f"{p['prompt']} → {rows[i]['answer']}" for p, i in zip(rows, blind, strict=False) if 0 <= i < len(rows)
        )
    letters = [f"{chr(65 + i)}" for i in blind if isinstance(i, int) and 0 <= i < len(rows)]
    return (" → " if item_type == ItemType.ORDERING else ", ").join(letters)


def blind_answer_correct(version: ItemVersion | None, item_type: str, blind: Any) -> bool | None:
    """Whether a recorded blind answer matches the version's key (None when it cannot be told)."""
    if blind is None or version is None:
        return None
    if item_type == ItemType.NUMERIC:
        if not isinstance(blind, int | float) or version.answer is None:
            return None
        return abs(float(blind) - version.answer) <= (version.tolerance or 0.0) + 1e-9
    if not isinstance(blind, list):
        return None
    if item_type == ItemType.MATCHING:
        return blind == list(range(len(version.pairs)))
    if item_type == ItemType.ORDERING:
        return blind == list(range(len(version.options)))
    return sorted(blind) == [i for i, o in enumerate(version.options) if o["correct"]]


# --------------------------------------------------------------------------------------------------- diffs


@dataclass(frozen=True)
class Segment:
    text: str
    changed: bool


@dataclass(frozen=True)
class DiffRow:
    """One line of a side-by-side diff: ``kind`` is equal, changed, added or removed; each side is a list of
    segments, the changed words marked (shown as ``<del>`` on the old side, ``<ins>`` on the new)."""

    kind: str
    old: list[Segment]
    new: list[Segment]


@dataclass(frozen=True)
class FieldDiff:
    field: str
    rows: list[DiffRow]

    @property
    def changed(self) -> bool:
        return any(r.kind != "equal" for r in self.rows)


def version_text(version: ItemVersion, item_type: str) -> dict[str, list[str]]:
    """A version's fields rendered as the lines an author reads: the Markdown text, each option with its letter,
    key mark and rationale, pairs, the numeric key, references and media."""
    fields: dict[str, list[str]] = {"Stem": version.stem.splitlines()}
    if item_type == ItemType.MATCHING:
        fields["Pairs"] = [
            line
            for i, p in enumerate(version.pairs)
            for line in (f"{i + 1}. {p['prompt']} → {p['answer']}", f"   why: {p['rationale']}")
        ]
    elif item_type == ItemType.NUMERIC:
        tolerance = f" ± {version.tolerance:g}" if version.tolerance is not None else ""
        answer = f"{version.answer:g}" if version.answer is not None else "(none)"
        fields["Answer"] = [f"{answer}{tolerance} {version.unit}".rstrip()]
    else:
        lines = []
        for i, o in enumerate(version.options):
            mark = " [key]" if o.get("correct") else ""
            lines += [f"{chr(65 + i)}. {o['text']}{mark}", f"   why: {o['rationale']}"]
        fields["Options"] = lines
    fields["Rationale"] = version.rationale.splitlines()
    fields["References"] = [
        " · ".join(str(r[k]) for k in ("standard", "section", "title", "url") if r.get(k)) for r in version.references
    ]
    fields["Media"] = [f"{m.get('file')} ({m.get('alt') or m.get('render', '')})" for m in version.media]
    return fields


def _words(line: str) -> list[str]:
    return re.findall(r"\s+|[^\s]+", line)


def _line_pair(old: str, new: str) -> DiffRow:
    a, b = _words(old), _words(new)
    old_segs: list[Segment] = []
    new_segs: list[Segment] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if i2 > i1:
            old_segs.append(Segment("".join(a[i1:i2]), tag != "equal"))
        if j2 > j1:
            new_segs.append(Segment("".join(b[j1:j2]), tag != "equal"))
    return DiffRow("changed", old_segs, new_segs)


def text_diff(old: list[str], new: list[str]) -> list[DiffRow]:
    """Side-by-side rows from difflib: equal lines, changed lines (word-level marks), added and removed lines."""
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            rows += [DiffRow("equal", [Segment(line, False)], [Segment(line, False)]) for line in old[i1:i2]]
            continue
        olds, news = old[i1:i2], new[j1:j2]
        for k in range(max(len(olds), len(news))):
            if k < len(olds) and k < len(news):
                rows.append(_line_pair(olds[k], news[k]))
            elif k < len(olds):
                rows.append(DiffRow("removed", [Segment(olds[k], True)], []))
            else:
                rows.append(DiffRow("added", [], [Segment(news[k], True)]))
    return rows


def item_versions_diff(*, old: ItemVersion, new: ItemVersion, item_type: str) -> list[FieldDiff]:
    """Field by field, what changed from one version to another."""
    a, b = version_text(old, item_type), version_text(new, item_type)
    return [FieldDiff(name, text_diff(a.get(name, []), b.get(name, []))) for name in dict.fromkeys([*a, *b])]


# ------------------------------------------------------------------------------------------------------ media

MEDIA_DIR = "bank-media"  # uploaded media, under the default storage, named by their content
MEDIA_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.(png|jpg|jpeg|gif|webp|dcm)$")
DICOM_SUFFIX = ".dcm"


def media_read(name: str) -> bytes | None:
    """A media file's bytes by its name: uploaded ones from the default storage, bundled ones from
    ``fixtures/media/`` (None: no such file, or not a valid media name)."""
    from django.conf import settings
    from django.core.files.storage import default_storage

    if not MEDIA_NAME.match(name):
        return None
    path = f"{MEDIA_DIR}/{name}"
    if default_storage.exists(path):
        with default_storage.open(path, "rb") as fh:
            data: bytes = fh.read()
            return data
    bundled = settings.BASE_DIR / "fixtures" / "media" / name
    return bundled.read_bytes() if bundled.is_file() else None


@lru_cache(maxsize=128)  # media names are content hashes (uploads) or bundled files: a name's bytes do not change
def dicom_exhibit_dump(name: str) -> str:
    """A DICOM exhibit as a tag dump, one element a line (sequence items indented), like the study browser's."""
    from labs.dicom.imaging import tag_dump

    data = media_read(name)
    if data is None or not name.endswith(DICOM_SUFFIX):
        raise LookupError(f"no DICOM object {name}")
    rows = tag_dump(io.BytesIO(data))
    width = max((len(r.keyword) for r in rows), default=0)
    return "\n".join(f"{'  ' * r.depth}{r.tag} {r.vr:<2} {r.keyword:<{width}}  {r.value}".rstrip() for r in rows)


@lru_cache(maxsize=64)
def dicom_exhibit_png(name: str, size: int = 512) -> bytes:
    """A DICOM exhibit's first frame as a PNG with the object's own windowing (``imaging.render_png``);
    raises ``LookupError`` without such an object, ``NotAnImage`` when it holds no displayable pixel data."""
    from labs.dicom.imaging import render_png

    data = media_read(name)
    if data is None or not name.endswith(DICOM_SUFFIX):
        raise LookupError(f"no DICOM object {name}")
    return render_png(io.BytesIO(data), size=size)

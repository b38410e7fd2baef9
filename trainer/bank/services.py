"""Writes for the bank: tracks and blueprints from fixtures, item import (all formats end here), versioning,
review workflow."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from trainer.accounts.models import User
from trainer.bank.models import (
    Blueprint,
    BlueprintDomain,
    Domain,
    Item,
    ItemDomain,
    ItemEvent,
    ItemStatus,
    ItemVersion,
    Tag,
    Track,
)
from trainer.bank.schema import ImportFailed, ItemIn, Problem

FIXTURES = settings.BASE_DIR / "fixtures"
OPTION_KEYS = "abcdefghijklmnopqrstuvwxyz"

# ---------------------------------------------------------------------------------------------- tracks, blueprints


@transaction.atomic
def tracks_load(*, path: Path | None = None) -> int:
    """Create or update tracks and domains from ``fixtures/tracks.yaml`` (codes are stable; names may change)."""
    doc = yaml.safe_load((path or FIXTURES / "tracks.yaml").read_text())
    count = 0
    for t_order, t in enumerate(doc["tracks"]):
        track, _ = Track.objects.update_or_create(code=t["code"], defaults={"name": t["name"], "order": t_order})
        for d_order, d in enumerate(t["domains"]):
            Domain.objects.update_or_create(track=track, code=d["code"], defaults={"name": d["name"], "order": d_order})
            count += 1
    return count


def blueprints_read(*, directory: Path | None = None) -> list[dict[str, Any]]:
    """The blueprint definitions in ``fixtures/blueprints/*.yaml``."""
    return [
        bp
        for path in sorted((directory or FIXTURES / "blueprints").glob("*.yaml"))
        for bp in yaml.safe_load(path.read_text())["blueprints"]
    ]


@transaction.atomic
def blueprints_load(*, directory: Path | None = None) -> int:
    """Create or update blueprints from ``fixtures/blueprints/*.yaml``."""
    n = 0
    for bp in blueprints_read(directory=directory):
        track = Track.objects.get(code=bp["track"])
        blueprint, _ = Blueprint.objects.update_or_create(
            code=bp["code"],
            defaults={
                "track": track,
                "name": bp["name"],
                "scored_items": sum(bp["domains"].values()),
                "pilot_items": bp.get("pilot_items", 0),
                "time_limit_minutes": bp["time_limit_minutes"],
                "pass_mark_percent": bp.get("pass_mark_percent"),
                "source_note": bp.get("source_note", "").strip(),
                "is_default": bp.get("default", False),
            },
        )
        blueprint.domain_counts.all().delete()
        domains = {d.code: d for d in track.domains.all()}
        BlueprintDomain.objects.bulk_create(
            BlueprintDomain(blueprint=blueprint, domain=domains[code], items=count)
            for code, count in bp["domains"].items()
        )
        n += 1
    return n


# ------------------------------------------------------------------------------------------------------- items


def content_of(data: ItemIn) -> dict[str, Any]:
    """The fields of an ItemVersion, as stored (option and pair keys by position)."""
    return {
        "stem": data.stem,
        "options": [
            {"key": OPTION_KEYS[i], "text": o.text, "correct": o.correct, "rationale": o.rationale}
            for i, o in enumerate(data.options)
        ],
        "pairs": [
            {"key": OPTION_KEYS[i], "prompt": p.prompt, "answer": p.answer, "rationale": p.rationale}
            for i, p in enumerate(data.pairs)
        ],
        "answer": data.answer,
        "tolerance": data.tolerance,
        "unit": data.unit or "",
        "rationale": data.rationale,
        "references": [r.model_dump() for r in data.references],
        "media": [m.model_dump() for m in data.media],
    }


def content_hash(content: dict[str, Any], item_type: str) -> str:
    blob = json.dumps({"type": item_type, **content}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    new_versions: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def total(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)

    def summary(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        return (
            f"{verb} {self.total} items: {len(self.created)} new, {len(self.updated)} changed "
            f"({len(self.new_versions)} as new versions), {len(self.unchanged)} unchanged"
        )


def tracks_read(*, path: Path | None = None) -> set[tuple[str, str]]:
    """(track, domain) codes defined in ``fixtures/tracks.yaml``."""
    doc = yaml.safe_load((path or FIXTURES / "tracks.yaml").read_text())
    return {(t["code"], d["code"]) for t in doc["tracks"] for d in t["domains"]}


def bank_validate(items: Iterable[ItemIn], *, known_domains: set[tuple[str, str]] | None = None) -> list[Problem]:
    """Checks that need the database or the whole file: known domains, unique ids."""
    known = known_domains
    if known is None:
        known = {(d.track.code, d.code) for d in Domain.objects.select_related("track")}
    problems: list[Problem] = []
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            problems.append(Problem(item.id, f"item {item.id}: the id appears twice in this file"))
        seen.add(item.id)
        for ref in item.domains:
            if (ref.track, ref.domain) not in known:
                problems.append(Problem(item.id, f"item {item.id}: unknown domain {ref.track}/{ref.domain}"))
    return problems


class _DryRun(Exception):
    pass


def bank_import(*, items: list[ItemIn], by: User | None = None, dry_run: bool = False) -> ImportReport:
    """Import items in one transaction: all or nothing. Items are matched by external id, so importing the same
    file again changes nothing; a changed item whose current version was shown to a learner gets a new version."""
    problems = bank_validate(items)
    if problems:
        raise ImportFailed(problems)
    report = ImportReport(dry_run=dry_run)
    try:
        with transaction.atomic():
            _import_items(items, by=by, report=report)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


def _import_items(items: list[ItemIn], *, by: User | None, report: ImportReport) -> None:
    domains = {(d.track.code, d.code): d for d in Domain.objects.select_related("track")}
    existing = {
        i.external_id: i
        for i in Item.objects.filter(external_id__in=[x.id for x in items])
        .select_related("current_version")
        .prefetch_related("item_domains__domain__track", "tags")
    }
    tags = {t.name: t for t in Tag.objects.all()}
    today = timezone.localdate()
    for data in items:
        item = existing.get(data.id)
        content = content_of(data)
        digest = content_hash(content, data.type)
        meta = {
            "type": data.type,
            "status": data.status,
            "difficulty": data.difficulty,
            "level": data.level,
            "generated": data.generated,
            "author_handle": _author_handle(data),
        }
        if item is not None and not data.history:
            meta["author_handle"] = item.author_handle  # formats without a history keep the recorded author
        if item is None:
            item = Item.objects.create(external_id=data.id, author=by, **meta)
            version = ItemVersion.objects.create(item=item, number=1, content_hash=digest, created_by=by, **content)
            item.current_version = version
            item.save(update_fields=["current_version"])
            report.created.append(data.id)
            _replace_history(item, data, version, by=by, today=today)
        else:
            version_or_none = item.current_version
            meta_changed = any(getattr(item, k) != v for k, v in meta.items())
            content_changed = version_or_none is None or version_or_none.content_hash != digest
            links_changed = _links_differ(item, data)
            if not (meta_changed or content_changed or links_changed):
                report.unchanged.append(data.id)
                continue
            for k, v in meta.items():
                setattr(item, k, v)
            if content_changed:
                version = item_save_content(item=item, content=content, digest=digest, by=by)
                if version.number > 1 and version_or_none is not None and version.pk != version_or_none.pk:
                    report.new_versions.append(data.id)
            item.save()
            report.updated.append(data.id)
            _replace_history(item, data, item.current_version, by=by, today=today)
        _set_links(item, data, domains=domains, tags=tags)


def _author_handle(data: ItemIn) -> str:
    drafted = next((e for e in data.history if e.action == "drafted"), None)
    return drafted.by if drafted else ""


def _links_differ(item: Item, data: ItemIn) -> bool:
    have_domains = [(d.domain.track.code, d.domain.code) for d in item.item_domains.all()]
    have_tags = sorted(t.name for t in item.tags.all())
    return have_domains != [(d.track, d.domain) for d in data.domains] or have_tags != sorted(set(data.tags))


def _set_links(item: Item, data: ItemIn, *, domains: dict[tuple[str, str], Domain], tags: dict[str, Tag]) -> None:
    item.item_domains.all().delete()
    ItemDomain.objects.bulk_create(
        ItemDomain(item=item, domain=domains[(d.track, d.domain)], primary=i == 0, order=i)
        for i, d in enumerate(data.domains)
    )
    for name in data.tags:
        if name not in tags:
            tags[name] = Tag.objects.get_or_create(name=name)[0]
    item.tags.set([tags[n] for n in dict.fromkeys(data.tags)])


def _replace_history(item: Item, data: ItemIn, version: ItemVersion | None, *, by: User | None, today: Any) -> None:
    """The file's history is the item's recorded review trail; an import without history records the import."""
    if not data.history:
        if not item.events.exists():
            ItemEvent.objects.create(item=item, version=version, action=ItemEvent.Action.IMPORTED, by=by, date=today)
        return
    item.events.all().delete()
    ItemEvent.objects.bulk_create(
        ItemEvent(
            item=item,
            version=version,
            action=e.action,
            by_handle=e.by,
            date=e.date,
            blind_answer=e.blind_answer,
            verdict=e.verdict,
            notes=e.notes,
        )
        for e in data.history
    )


def item_save_content(*, item: Item, content: dict[str, Any], digest: str, by: User | None) -> ItemVersion:
    """Store new content: in place while the current version was never shown, else as a new version."""
    current = item.current_version
    if current is not None and not current.locked:
        for k, v in content.items():
            setattr(current, k, v)
        current.content_hash = digest
        current.save()
        return current
    number = (item.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = ItemVersion.objects.create(item=item, number=number, content_hash=digest, created_by=by, **content)
    item.current_version = version
    item.save(update_fields=["current_version", "updated"])
    return version


def item_versions_lock(*, version_ids: Iterable[int]) -> None:
    """Called when versions are shown to a learner: from now on an edit makes a new version."""
    ItemVersion.objects.filter(pk__in=list(version_ids), locked=False).update(locked=True)


@transaction.atomic
def item_set_status(*, item: Item, status: str, by: User | None, notes: str = "") -> Item:
    """Move an item through review: draft → in_review → published → retired (and back to draft)."""
    allowed = {
        ItemStatus.DRAFT: {ItemStatus.IN_REVIEW, ItemStatus.RETIRED},
        ItemStatus.IN_REVIEW: {ItemStatus.PUBLISHED, ItemStatus.DRAFT, ItemStatus.RETIRED},
        ItemStatus.PUBLISHED: {ItemStatus.RETIRED, ItemStatus.DRAFT},
        ItemStatus.RETIRED: {ItemStatus.DRAFT},
    }
    new = ItemStatus(status)
    if new not in allowed[ItemStatus(item.status)]:
        raise ValueError(f"an item cannot go from {item.get_status_display()} to {new.label}")
    action = {
        ItemStatus.IN_REVIEW: ItemEvent.Action.SUBMITTED,
        ItemStatus.PUBLISHED: ItemEvent.Action.PUBLISHED,
        ItemStatus.RETIRED: ItemEvent.Action.RETIRED,
        ItemStatus.DRAFT: ItemEvent.Action.RETURNED,
    }[new]
    item.status = new
    if new == ItemStatus.PUBLISHED and by is not None:
        item.reviewer = by
    item.save(update_fields=["status", "reviewer", "updated"])
    ItemEvent.objects.create(
        item=item,
        version=item.current_version,
        action=action,
        by=by,
        by_handle=by.username if by else "",
        date=timezone.localdate(),
        notes=notes,
    )
    return item


# ------------------------------------------------------------------------------------------------ file import


def bank_parse(
    *,
    text: str | None = None,
    data: bytes | None = None,
    fmt: str,
    source: str = "",
    known_domains: set[tuple[str, str]] | None = None,
) -> list[ItemIn]:
    """Parse and validate a whole file, given as text or (for any format, binary ones too) as bytes; every
    problem is reported at once, with its place in the file."""
    from trainer.bank.formats import get_format

    f = get_format(fmt)
    if data is not None:
        items, problems = f.read(data)
    elif text is not None:
        items, problems = f.parse(text)
    else:
        raise TypeError("bank_parse needs text or data")
    if not problems:
        problems = bank_validate(items, known_domains=known_domains)
    if problems:
        if source:
            # A problem inside a package names its member: "bank.zip:items/x.xml:line 3".
            problems = [
                Problem(p.where, p.message, p.line, f"{source}:{p.source}" if p.source else source) for p in problems
            ]
        raise ImportFailed(problems)
    return items


def bank_import_text(*, text: str, fmt: str, by: User | None = None, dry_run: bool = False) -> ImportReport:
    return bank_import(items=bank_parse(text=text, fmt=fmt), by=by, dry_run=dry_run)


def bank_import_data(*, data: bytes, fmt: str, by: User | None = None, dry_run: bool = False) -> ImportReport:
    """Import a file's bytes in any format (what the command and uploads use)."""
    return bank_import(items=bank_parse(data=data, fmt=fmt), by=by, dry_run=dry_run)


def bundled_bank_items(*, directory: Path | None = None) -> list[ItemIn]:
    """Every item of the bundled bank (``fixtures/bank/**/*.yaml``), validated; problems name the file."""
    items: list[ItemIn] = []
    problems: list[Problem] = []
    known = tracks_read()
    for path in sorted((directory or FIXTURES / "bank").rglob("*.yaml")):
        source = str(path.relative_to(FIXTURES.parent)) if path.is_relative_to(FIXTURES.parent) else str(path)
        try:
            items += bank_parse(text=path.read_text(), fmt="native", source=source, known_domains=known)
        except ImportFailed as exc:
            problems += exc.problems
    problems += [p for p in bank_validate(items, known_domains=known) if "appears twice" in p.message]
    if problems:
        raise ImportFailed(problems)
    return items


def bank_load_bundled() -> str:
    """Demo/first-run step: tracks, blueprints and the bundled bank."""
    tracks_load()
    blueprints_load()
    report = bank_import(items=bundled_bank_items())
    return f"bank: {report.summary()}"

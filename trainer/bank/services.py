"""Writes for the bank: tracks and blueprints from fixtures, item import (all formats end here), versioning,
review workflow."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from trainer.accounts.models import User
from trainer.bank.linter import lint_item
from trainer.bank.models import (
    Blueprint,
    BlueprintDomain,
    Domain,
    Item,
    ItemDomain,
    ItemEvent,
    ItemStatus,
    ItemType,
    ItemVersion,
    Tag,
    Track,
)
from trainer.bank.schema import ImportFailed, ItemIn, Problem
from trainer.bank.scoring import normalise_response
from trainer.bank.selectors import (
    BLIND_FIRST,
    DICOM_SUFFIX,
    MEDIA_DIR,
    item_key_hidden,
    item_review_pending,
    item_review_refusal,
    item_to_schema,
)

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
        raise AuthoringError(f"an item cannot go from {item.get_status_display()} to {new.label}")
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


def bank_upload_read(*, upload: Any) -> bytes:
    """The bytes of an uploaded bank file, refused with a clear message when larger than BANK_IMPORT_MAX_BYTES
    or empty (the format then reports anything wrong inside it, with its place)."""
    from trainer.core.middleware import too_large_message

    limit = int(settings.BANK_IMPORT_MAX_BYTES)
    size = int(getattr(upload, "size", 0) or 0)
    if size > limit:
        raise ValueError(too_large_message(size, limit, "The file"))
    data = bytes(upload.read(limit + 1))
    if len(data) > limit:
        raise ValueError(too_large_message(len(data), limit, "The file"))
    if not data:
        raise ValueError("The file is empty.")
    return data


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


# ------------------------------------------------------------------------------------------------- authoring


class AuthoringError(ValueError):
    """Something the author or reviewer can fix; the message says what."""


def _event(item: Item, action: str, *, by: User | None, version: ItemVersion | None = None, **extra: Any) -> ItemEvent:
    return ItemEvent.objects.create(
        item=item,
        version=version if version is not None else item.current_version,
        action=action,
        by=by,
        by_handle=by.username if by else "",
        date=timezone.localdate(),
        **extra,
    )


def _check_references(data: ItemIn) -> None:
    problems = bank_validate([data])
    if problems:
        raise AuthoringError("; ".join(p.message for p in problems))


def _links(data: ItemIn) -> tuple[dict[tuple[str, str], Domain], dict[str, Tag]]:
    domains = {(d.track.code, d.code): d for d in Domain.objects.select_related("track")}
    tags = {t.name: t for t in Tag.objects.filter(name__in=data.tags)}
    return domains, tags


@transaction.atomic
def item_create(*, data: ItemIn, by: User) -> Item:
    """A new authored item: version 1, a draft (review moves it on), with a ``drafted`` event."""
    if Item.objects.filter(external_id=data.id).exists():
        raise AuthoringError(f"an item with the id {data.id} already exists")
    _check_references(data)
    content = content_of(data)
    item = Item.objects.create(
        external_id=data.id,
        type=data.type,
        status=ItemStatus.DRAFT,
        difficulty=data.difficulty,
        level=data.level,
        generated=False,
        author=by,
        author_handle=by.username,
    )
    version = ItemVersion.objects.create(
        item=item, number=1, content_hash=content_hash(content, data.type), created_by=by, **content
    )
    item.current_version = version
    item.save(update_fields=["current_version"])
    domains, tags = _links(data)
    _set_links(item, data, domains=domains, tags=tags)
    _event(item, ItemEvent.Action.DRAFTED, by=by, version=version)
    return item


@transaction.atomic
def item_update(*, item: Item, data: ItemIn, by: User) -> Item:
    """Save an edit. Content goes into the current version while no learner has seen it; once a learner has, a
    new version is made and the shown one stays exactly as it was. Every real change records an ``edited``
    event. Editing a generated item's content makes it an authored one (the generator never overwrites it).
    The id cannot change, and neither can the type once a learner has seen the item (their answers are scored
    by it)."""
    item = Item.objects.select_for_update(of=("self",)).select_related("current_version").get(pk=item.pk)
    if data.id != item.external_id:
        raise AuthoringError("an item's id cannot change (other systems refer to it); create a new item instead")
    if data.type != item.type and item.versions.filter(locked=True).exists():
        raise AuthoringError(
            "learners have seen this item, so its type cannot change (their answers are scored by it); "
            "retire it and create a new item instead"
        )
    _check_references(data)
    content = content_of(data)
    digest = content_hash(content, data.type)
    before = item.current_version
    meta = {"type": data.type, "difficulty": data.difficulty, "level": data.level}
    meta_changed = any(getattr(item, k) != v for k, v in meta.items())
    content_changed = before is None or before.content_hash != digest
    if not (meta_changed or content_changed or _links_differ(item, data)):
        return item
    for k, v in meta.items():
        setattr(item, k, v)
    notes = []
    if content_changed:
        version = item_save_content(item=item, content=content, digest=digest, by=by)
        if before is not None and version.pk != before.pk:
            notes.append(f"version {version.number}: version {before.number} had been shown to learners and is kept")
        if item.generated:  # a person's change: from now on the generator must not overwrite it
            item.generated = False
            notes.append("edited by hand: now an authored item")
    item.save(update_fields=["type", "difficulty", "level", "generated", "updated"])
    domains, tags = _links(data)
    _set_links(item, data, domains=domains, tags=tags)
    _event(item, ItemEvent.Action.EDITED, by=by, notes="; ".join(notes))
    return item


@transaction.atomic
def item_submit(*, item: Item, by: User) -> Item:
    """Send a draft to the review queue; the linter's errors must be fixed first."""
    errors = [f for f in lint_item(item_to_schema(item)) if f.severity == "error"]
    if errors:
        raise AuthoringError("fix the linter's errors first: " + "; ".join(f.message for f in errors))
    return item_set_status(item=item, status=ItemStatus.IN_REVIEW, by=by)


@transaction.atomic
def _check_not_skipping_review(item: Item, by: User, what: str) -> None:
    """An item in review leaves review through a review (blind answer, then verdict) unless its author takes it
    back: otherwise a reviewer could retire or un-submit it, read the key, and answer it 'blind' afterwards."""
    if item_key_hidden(item=item, user=by):
        raise AuthoringError(f"only its author can {what} an item in review; {BLIND_FIRST}, then give your verdict")


def item_retire(*, item: Item, by: User, notes: str = "") -> Item:
    """Take an item out of use (practice and exams no longer draw it); its versions and history stay."""
    _check_not_skipping_review(item, by, "retire")
    return item_set_status(item=item, status=ItemStatus.RETIRED, by=by, notes=notes)


def item_to_draft(*, item: Item, by: User, notes: str = "") -> Item:
    """Take an item back to draft (from review, published or retired)."""
    _check_not_skipping_review(item, by, "take back")
    return item_set_status(item=item, status=ItemStatus.DRAFT, by=by, notes=notes)


# ---------------------------------------------------------------------------------------------------- review

REVIEW_DECISIONS = {
    "accept": (ItemStatus.PUBLISHED, "accepted"),
    "return": (ItemStatus.DRAFT, "returned"),
    "retire": (ItemStatus.RETIRED, "dropped"),
}


def _check_reviewable(item: Item, reviewer: User) -> ItemVersion:
    if item.status != ItemStatus.IN_REVIEW:
        raise AuthoringError(f"this item is {item.get_status_display().lower()}, not in review")
    refusal = item_review_refusal(item=item, user=reviewer)
    if refusal:
        raise AuthoringError(refusal)
    version = item.current_version
    if version is None:
        raise AuthoringError("this item has no content to review")
    return version


def blind_answer_of(version: ItemVersion, item_type: str, response: dict[str, Any]) -> list[int] | float:
    """A normalised response as the native format records a reviewer's blind answer: option indexes (0-based;
    for ordering in the chosen order, for matching the chosen answer's index per prompt), or the number."""
    if item_type == ItemType.NUMERIC:
        return float(response["value"])
    keys = [p["key"] for p in version.pairs] if item_type == ItemType.MATCHING else [o["key"] for o in version.options]
    if item_type in {ItemType.SINGLE, ItemType.TRUEFALSE}:
        return [keys.index(response["choice"])]
    if item_type == ItemType.MULTIPLE:
        return sorted(keys.index(k) for k in response["choices"])
    if item_type == ItemType.ORDERING:
        return [keys.index(k) for k in response["order"]]
    return [keys.index(response["pairs"][k]) for k in keys]


@transaction.atomic
def item_review_answer(*, item: Item, reviewer: User, raw: dict[str, Any]) -> ItemEvent:
    """Step 1 of a review: the reviewer answers the item blind, before the key is shown to them. Recorded as a
    ``reviewed`` event without a verdict (yet), tied to the version answered."""
    item = Item.objects.select_for_update(of=("self",)).select_related("current_version").get(pk=item.pk)
    version = _check_reviewable(item, reviewer)
    if item_review_pending(item=item, reviewer=reviewer) is not None:
        raise AuthoringError("you have already answered this version blind; give your verdict")
    response = normalise_response(version, item.type, raw)
    return _event(
        item,
        ItemEvent.Action.REVIEWED,
        by=reviewer,
        version=version,
        blind_answer=blind_answer_of(version, item.type, response),
    )


@transaction.atomic
def item_review_decide(*, item: Item, reviewer: User, decision: str, notes: str = "") -> Item:
    """Step 2: having answered blind and then seen the key, the reviewer accepts (published), returns (back to
    draft, with comments) or retires the item. The verdict goes on the blind-answer event."""
    item = Item.objects.select_for_update(of=("self",)).select_related("current_version").get(pk=item.pk)
    _check_reviewable(item, reviewer)
    if decision not in REVIEW_DECISIONS:
        raise AuthoringError(f"the decision is one of {', '.join(REVIEW_DECISIONS)}")
    event = item_review_pending(item=item, reviewer=reviewer)
    if event is None:
        raise AuthoringError("answer the item blind before giving a verdict")
    notes = notes.strip()
    if decision != "accept" and not notes:
        raise AuthoringError("say what the author should change (or why the item goes)")
    status, verdict = REVIEW_DECISIONS[decision]
    event.verdict = verdict
    event.notes = notes
    event.save(update_fields=["verdict", "notes"])
    return item_set_status(item=item, status=status, by=reviewer, notes=notes)


# ------------------------------------------------------------------------------------------------------ media

MEDIA_MAX_BYTES = 2 * 1024 * 1024
DICOM_MAX_BYTES = 8 * 1024 * 1024
MEDIA_FORMATS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp"}


def _mib(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1048576:
        return f"{n / 1024:.0f} KiB"
    return f"{n / 1048576:.1f}".removesuffix(".0") + " MiB"


def media_store(*, upload: Any, max_bytes: int = MEDIA_MAX_BYTES, max_dicom_bytes: int = DICOM_MAX_BYTES) -> str:
    """Check an uploaded exhibit — an image (really a PNG, JPEG, GIF or WebP, whatever its name or declared type
    says) or a DICOM object (a PS3.10 file that parses, without patient data: ``exhibits.exhibit_check``) — and
    store it under a name made from its content. Returns the name for the item's ``media``."""
    from labs.dicom.exhibits import NotAnExhibit, exhibit_check

    size = getattr(upload, "size", None) or 0
    if size > max(max_bytes, max_dicom_bytes):
        raise AuthoringError(
            f"the file is {_mib(size)}; the limit is {_mib(max_bytes)} for an image, "
            f"{_mib(max_dicom_bytes)} for a DICOM object"
        )
    data = upload.read(max(max_bytes, max_dicom_bytes) + 1)
    if not data:
        raise AuthoringError("the uploaded file is empty")
    if data[128:132] == b"DICM" or str(getattr(upload, "name", "")).lower().endswith(DICOM_SUFFIX):
        if len(data) > max_dicom_bytes:
            raise AuthoringError(f"the DICOM object is larger than {_mib(max_dicom_bytes)}, the limit for one")
        try:
            exhibit_check(data)
        except NotAnExhibit as exc:
            raise AuthoringError(f"not accepted as a DICOM exhibit: {exc}") from exc
        extension = "dcm"
    else:
        if len(data) > max_bytes:
            raise AuthoringError(f"the image is {_mib(len(data))}; the limit is {_mib(max_bytes)}")
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
                kind = image.format or ""
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise AuthoringError(
                "the file is not an image that could be read (PNG, JPEG, GIF or WebP) nor a DICOM file"
            ) from exc
        if kind not in MEDIA_FORMATS:
            raise AuthoringError(f"{kind or 'this'} images are not accepted; use PNG, JPEG, GIF or WebP")
        extension = MEDIA_FORMATS[kind]
    name = f"{hashlib.sha256(data).hexdigest()[:32]}.{extension}"
    path = f"{MEDIA_DIR}/{name}"
    if not default_storage.exists(path):
        default_storage.save(path, ContentFile(data))
    return name


# -------------------------------------------------------------------------------------------------- blueprints


@transaction.atomic
def blueprint_update(
    *,
    blueprint: Blueprint,
    name: str,
    time_limit_minutes: int,
    pilot_items: int,
    pass_mark_percent: float | None,
    source_note: str,
    counts: dict[str, int],
) -> Blueprint:
    """Edit a blueprint: items per domain (domains of its track; 0 leaves a domain out), pilot items, time, pass
    mark and the note saying where the numbers come from. The scored total follows from the counts."""
    domains = {d.code: d for d in blueprint.track.domains.all()}
    unknown = sorted(set(counts) - set(domains))
    if unknown:
        raise AuthoringError(f"{', '.join(unknown)}: not a domain of {blueprint.track.code}")
    if any(n < 0 for n in counts.values()):
        raise AuthoringError("item counts cannot be negative")
    scored = sum(counts.values())
    if scored == 0:
        raise AuthoringError("a blueprint needs at least one scored item")
    if time_limit_minutes < 1:
        raise AuthoringError("the time limit is at least one minute")
    if pilot_items < 0:
        raise AuthoringError("pilot items cannot be negative")
    if pass_mark_percent is not None and not 0 < pass_mark_percent <= 100:
        raise AuthoringError("the pass mark is a percentage above 0 and at most 100 (or empty: no pass mark)")
    if not name.strip():
        raise AuthoringError("a blueprint needs a name")
    blueprint.name = name.strip()
    blueprint.time_limit_minutes = time_limit_minutes
    blueprint.pilot_items = pilot_items
    blueprint.pass_mark_percent = pass_mark_percent
    blueprint.source_note = source_note.strip()
    blueprint.scored_items = scored
    blueprint.save()
    blueprint.domain_counts.all().delete()
    BlueprintDomain.objects.bulk_create(
        BlueprintDomain(blueprint=blueprint, domain=domains[code], items=n) for code, n in counts.items() if n > 0
    )
    return blueprint


# ------------------------------------------------------------------------------------------------- generator


@transaction.atomic
def bank_generate(
    *,
    count: int,
    seed: int,
    families: list[str] | None = None,
    status: str = ItemStatus.PUBLISHED,
    dry_run: bool = False,
    by: User | None = None,
) -> tuple[list[ItemIn], ImportReport]:
    """Generate items from pydicom's DICOM dictionaries and import them through ``bank_import`` (one
    transaction; re-running with the same seed changes nothing). An id that belongs to an authored item is an
    error: the generator never overwrites what a person wrote."""
    from trainer.bank.generator import generate_items

    existing = dict(Item.objects.filter(external_id__startswith="gen-").values_list("external_id", "generated"))
    authored_stems = Item.objects.filter(generated=False, type=ItemType.SINGLE).exclude(status=ItemStatus.RETIRED)
    items = generate_items(
        count=count,
        seed=seed,
        families=families,
        existing_ids=existing,
        avoid_stems=authored_stems.values_list("current_version__stem", flat=True),
    )
    collisions = [i.id for i in items if existing.get(i.id) is False]
    if collisions:
        raise ImportFailed(
            [
                Problem(i, f"item {i} exists and was written by an author: the generator never overwrites it")
                for i in collisions
            ]
        )
    wanted = ItemStatus(status)
    items = [i.model_copy(update={"status": wanted}) for i in items]
    return items, bank_import(items=items, by=by, dry_run=dry_run)

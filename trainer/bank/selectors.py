"""Reads for the bank: items as the canonical schema (for export), statistics."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from trainer.bank.models import CognitiveLevel, Difficulty, Item, ItemDomain, ItemStatus, ItemType
from trainer.bank.schema import DomainRef, EventIn, ItemIn, MediaIn, OptionIn, PairIn, ReferenceIn


def items_for_export() -> QuerySet[Item]:
    return Item.objects.select_related("current_version").prefetch_related(
        "item_domains__domain__track", "tags", "events"
    )


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

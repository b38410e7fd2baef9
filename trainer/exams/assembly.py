"""Assemble a mock-exam form from a blueprint: exact item counts per domain, unscored pilot items, and items
the learner has not seen before preferred while any remain."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

from trainer.bank.models import Blueprint, ItemDomain, ItemStatus


class AssemblyError(ValueError):
    """The bank cannot fill the blueprint (too few published items in a domain)."""


@dataclass(frozen=True)
class Slot:
    item_id: int
    domain_id: int | None
    pilot: bool


def _pick(candidates: list[int], need: int, rng: random.Random, seen: set[int], cost: dict[int, float]) -> list[int]:
    """``need`` of ``candidates`` at random: unseen before seen, and within each the items with no ``cost`` (no
    other domain needs them) before the cheapest of the rest. Samples only what it returns, so a 20 000-item
    bank costs a pass over the ids rather than a shuffle of all of them."""
    out: list[int] = []
    for group in ([i for i in candidates if i not in seen], [i for i in candidates if i in seen]):
        free = [i for i in group if i not in cost]
        by_cost: dict[float, list[int]] = defaultdict(list)
        for item_id in group:
            if item_id in cost:
                by_cost[cost[item_id]].append(item_id)
        for tier in [free, *(by_cost[c] for c in sorted(by_cost))]:
            out += rng.sample(tier, min(need - len(out), len(tier)))
            if len(out) == need:
                return out
    return out


def assemble_form(*, blueprint: Blueprint, seen: set[int], rng: random.Random) -> list[Slot]:
    """Two queries whatever the bank's size. Items the learner has not seen come first. Domains with the fewest
    unseen candidates to spare are filled first, and an item that also counts toward another domain is spent
    last, the later the scarcer that domain's items are, so that the next form for the same learner can still
    be filled from items they have not seen."""
    counts = {dc.domain_id: dc.items for dc in blueprint.domain_counts.all()}
    by_domain: dict[int, list[int]] = defaultdict(list)
    for item_id, domain_id in (
        ItemDomain.objects.filter(domain__track_id=blueprint.track_id, item__status=ItemStatus.PUBLISHED)
        .order_by()
        .values_list("item_id", "domain_id")
    ):
        by_domain[domain_id].append(item_id)
    # The share of a domain's items one form uses: what spending one of its items elsewhere costs.
    scarcity = {d: round(counts[d] / max(len(by_domain[d]), 1), 2) for d in counts}
    domains_of: dict[int, list[int]] = defaultdict(list)
    for domain_id in counts:
        for item_id in by_domain[domain_id]:
            domains_of[item_id].append(domain_id)
    shared = {i: ds for i, ds in domains_of.items() if len(ds) > 1}

    def cost_in(domain_id: int) -> dict[int, float]:
        return {i: max(scarcity[d] for d in ds if d != domain_id) for i, ds in shared.items() if domain_id in ds}

    unseen = {d: sum(1 for i in by_domain[d] if i not in seen) for d in counts}
    used: set[int] = set()
    slots: list[Slot] = []
    for domain_id in sorted(counts, key=lambda d: (unseen[d] - counts[d], len(by_domain[d]) - counts[d])):
        candidates = [i for i in by_domain[domain_id] if i not in used]
        need = counts[domain_id]
        if len(candidates) < need:
            raise AssemblyError(
                f"The bank has {len(candidates)} published items for a domain of {blueprint.name} that needs {need}."
            )
        for item_id in _pick(candidates, need, rng, seen, cost_in(domain_id)):
            used.add(item_id)
            slots.append(Slot(item_id, domain_id, pilot=False))
    spare = sorted({i for ids in by_domain.values() for i in ids} - used)
    if len(spare) < blueprint.pilot_items:
        raise AssemblyError(f"The bank has too few spare items for {blueprint.pilot_items} pilot items.")
    pilot_cost = {i: max(scarcity[d] for d in ds) for i, ds in domains_of.items()}
    slots += [Slot(i, None, pilot=True) for i in _pick(spare, blueprint.pilot_items, rng, seen, pilot_cost)]
    rng.shuffle(slots)
    return slots

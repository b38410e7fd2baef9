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


def assemble_form(*, blueprint: Blueprint, seen: set[int], rng: random.Random) -> list[Slot]:
    """Two queries whatever the bank's size. Domains with the fewest candidates are filled first so that an item
    counting toward several domains is not spent where it was not needed."""
    counts = {dc.domain_id: dc.items for dc in blueprint.domain_counts.all()}
    by_domain: dict[int, list[int]] = defaultdict(list)
    for item_id, domain_id in ItemDomain.objects.filter(
        domain__track_id=blueprint.track_id, item__status=ItemStatus.PUBLISHED
    ).values_list("item_id", "domain_id"):
        by_domain[domain_id].append(item_id)
    used: set[int] = set()
    slots: list[Slot] = []
    for domain_id in sorted(counts, key=lambda d: len(by_domain[d]) - counts[d]):
        candidates = [i for i in by_domain[domain_id] if i not in used]
        need = counts[domain_id]
        if len(candidates) < need:
            raise AssemblyError(
                f"The bank has {len(candidates)} published items for a domain of {blueprint.name} that needs {need}."
            )
        rng.shuffle(candidates)
        candidates.sort(key=lambda i: i in seen)  # unseen first; random order within each group
        for item_id in candidates[:need]:
            used.add(item_id)
            slots.append(Slot(item_id, domain_id, pilot=False))
    spare = sorted({i for ids in by_domain.values() for i in ids} - used)
    rng.shuffle(spare)
    spare.sort(key=lambda i: i in seen)
    pilots = spare[: blueprint.pilot_items]
    if len(pilots) < blueprint.pilot_items:
        raise AssemblyError(f"The bank has too few spare items for {blueprint.pilot_items} pilot items.")
    slots += [Slot(i, None, pilot=True) for i in pilots]
    rng.shuffle(slots)
    return slots

"""Scale of data: assemble a 150-item form from a 20 000-item bank, item analysis over 1 000 learners × 150
items, and the FSRS review queue of a learner holding 5 000 cards — the real services on PostgreSQL."""

from __future__ import annotations

import random
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import Figure, Section, progress

BANK = 20_000
DOMAINS = 5
FORM = 150
PILOTS = 10
LEARNERS = 1_000
CARDS = 5_000


def _bank(size: int) -> tuple[Any, list[int]]:
    """A bench track with DOMAINS domains and `size` published items (a tenth in two domains), bulk-inserted."""
    from trainer.bank.models import Blueprint, BlueprintDomain, Domain, Item, ItemDomain, ItemStatus, Track
    from trainer.practice.models import PracticeSession

    PracticeSession.objects.filter(track__code="bench").delete()  # left by an earlier run's queue timings
    Track.objects.filter(code="bench").delete()
    Item.objects.filter(external_id__startswith="bench-").delete()
    track = Track.objects.create(code="bench", name="Bench track", order=99)
    domains = [Domain.objects.create(track=track, code=f"d{i}", name=f"Domain {i}", order=i) for i in range(DOMAINS)]
    items = Item.objects.bulk_create(
        [Item(external_id=f"bench-{i}", type="single", status=ItemStatus.PUBLISHED) for i in range(size)],
        batch_size=2000,
    )
    links = []
    for n, item in enumerate(items):
        links.append(ItemDomain(item=item, domain=domains[n % DOMAINS], primary=True))
        if n % 10 == 0:
            links.append(ItemDomain(item=item, domain=domains[(n + 1) % DOMAINS], order=1))
    ItemDomain.objects.bulk_create(links, batch_size=5000)
    blueprint = Blueprint.objects.create(
        code="bench-150", track=track, name="Bench 150", scored_items=FORM - PILOTS, pilot_items=PILOTS,
        time_limit_minutes=180,
    )  # fmt: skip
    per = (FORM - PILOTS) // DOMAINS
    for d in domains:
        BlueprintDomain.objects.create(blueprint=blueprint, domain=d, items=per)
    _analyze()
    return blueprint, [i.pk for i in items]


def _analyze() -> None:
    """Fresh planner statistics after a bulk load, as autovacuum gathers within a minute on a real site: without
    them PostgreSQL plans the 22 000-row join as nested loops (~100 ms instead of ~20 ms)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _timed(fn: Any, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def _responses(rng: np.random.Generator, learners: int, items: int) -> tuple[list[dict[int, Any]], list[Any]]:
    """A 2PL-like synthetic response matrix with chosen options, as the analysis takes it."""
    from trainer.courses.analysis import Answer, ItemKey

    ability = rng.normal(size=learners)
    difficulty = rng.normal(size=items)
    discrimination = rng.uniform(0.3, 2.0, size=items)
    p = 1 / (1 + np.exp(-discrimination * (ability[:, None] - difficulty[None, :])))
    right = rng.random((learners, items)) < p
    wrong_choice = rng.integers(1, 4, size=(learners, items))
    options = ["a", "b", "c", "d"]
    keys = [ItemKey(item_id=j, options=options, keys=["a"]) for j in range(items)]
    examinees = [
        {j: Answer(score=1.0 if right[i, j] else 0.0, choice="a" if right[i, j] else options[wrong_choice[i, j]])
         for j in range(items)}
        for i in range(learners)
    ]  # fmt: skip
    return examinees, keys


def run(work: Path, *, quick: bool, runs: int) -> Section:
    from django.utils import timezone

    from trainer.accounts.models import User
    from trainer.courses.analysis import analyse_form, analyse_items
    from trainer.exams.assembly import assemble_form
    from trainer.practice.models import Card
    from trainer.practice.selectors import due_cards_count
    from trainer.practice.services import practice_session_start

    progress(f"data: bank of {BANK} items")
    blueprint, item_ids = _bank(BANK)
    rng = random.Random(7)
    seen = set(rng.sample(item_ids, 3000))
    assemble = _timed(lambda: assemble_form(blueprint=blueprint, seen=seen, rng=random.Random()), 5 * runs)
    form_size = len(assemble_form(blueprint=blueprint, seen=seen, rng=random.Random(1)))

    progress("data: item analysis")
    examinees, keys = _responses(np.random.default_rng(3), LEARNERS, FORM)
    analysis = _timed(lambda: (analyse_items(examinees, keys), analyse_form(
        [[a.score for _, a in sorted(e.items())] for e in examinees])), runs)  # fmt: skip

    progress(f"data: FSRS queue of {CARDS} cards")
    learner, _ = User.objects.get_or_create(username="bench-fsrs", defaults={"exam_track": "bench"})
    Card.objects.filter(learner=learner).delete()
    now = timezone.now()
    Card.objects.bulk_create(
        [Card(learner=learner, item_id=item_id, state=2, stability=5.0, difficulty=5.0, reviews=3,
              due=now + timedelta(hours=rng.uniform(-240, 240)), last_review=now - timedelta(days=3))
         for item_id in item_ids[:CARDS]],
        batch_size=2000,
    )  # fmt: skip
    _analyze()
    due = due_cards_count(learner)
    track = blueprint.track
    queue = _timed(lambda: practice_session_start(learner=learner, track=track, mode="due", count=50), 5 * runs)
    count = _timed(lambda: due_cards_count(learner), 5 * runs)
    Card.objects.filter(learner=learner).delete()

    figures = [
        Figure("assemble_150", f"Assemble a {form_size}-item form from a {BANK:,}-item bank (3 000 seen)", "ms",
               assemble, target="< 200"),
        Figure("item_analysis", f"Item analysis, {LEARNERS:,} learners × {FORM} items (items + KR-20/α)", "ms",
               analysis, target="< 5000"),
        Figure("fsrs_queue", f"FSRS review session of 50 from {CARDS:,} cards ({due:,} due)", "ms", queue),
        Figure("fsrs_due_count", f"Due-card count for {CARDS:,} cards (dashboard badge)", "ms", count),
    ]  # fmt: skip
    figures[0].met = figures[0].median < 200
    figures[1].met = figures[1].median < 5000
    reading = (
        f"Assembly is two queries and in-memory sampling whatever the bank size ({figures[0].median:.0f} ms for "
        f"{BANK:,} items, about 20 ms of it the query); the item analysis is numpy over the response matrix "
        f"({figures[1].median / 1000:.1f} s); "
        f"the review queue filters {CARDS:,} cards by due date through the (learner, due) index."
    )
    return Section("data", "Scale of data", figures, reading, {"bank": BANK, "cards": CARDS, "due": due})

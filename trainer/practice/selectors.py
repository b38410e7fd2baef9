"""Reads for practice: candidate items, mastery per domain with its uncertainty, readiness, due reviews."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from trainer.accounts.models import User
from trainer.bank.models import Domain, Item, ItemDomain, ItemStatus, Track
from trainer.practice.models import Card, ItemFlag, Response

Z90 = 1.645


@dataclass(frozen=True)
class DomainMastery:
    """Beta-Binomial estimate of the chance of answering an item of this domain right.

    The evidence is each item's latest response (so drilling one item does not inflate mastery); with a uniform
    Beta(1, 1) prior the posterior is Beta(1 + right, 1 + wrong). ``low``/``high`` bound a 90% interval (normal
    approximation of the Beta), so few answers read as "uncertain", not as "mastered"."""

    domain_id: int
    code: str
    name: str
    answered: int
    right: int
    published: int
    mean: float
    low: float
    high: float

    @property
    def coverage(self) -> float:
        return self.answered / self.published if self.published else 0.0

    @property
    def percent(self) -> int:
        return round(self.mean * 100)


def _beta(right: int, answered: int) -> tuple[float, float, float]:
    a, b = 1 + right, 1 + answered - right
    mean = a / (a + b)
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    return mean, max(0.0, mean - Z90 * sd), min(1.0, mean + Z90 * sd)


def latest_results(learner: User) -> dict[int, bool]:
    """item id → whether the learner's latest answer to it was right."""
    latest: dict[int, bool] = {}
    for item_id, correct in (
        Response.objects.filter(learner=learner).order_by("item_id", "-answered_at").values_list("item_id", "correct")
    ):
        latest.setdefault(item_id, correct)
    return latest


def mastery_by_domain(learner: User, track: Track) -> list[DomainMastery]:
    latest = latest_results(learner)
    domains = list(
        Domain.objects.filter(track=track).annotate(
            published=Count("item_domains", filter=Q(item_domains__item__status=ItemStatus.PUBLISHED))
        )
    )
    items_by_domain: dict[int, list[int]] = {}
    for domain_id, item_id in ItemDomain.objects.filter(domain__track=track, item_id__in=latest).values_list(
        "domain_id", "item_id"
    ):
        items_by_domain.setdefault(domain_id, []).append(item_id)
    result = []
    for d in domains:
        ids = items_by_domain.get(d.pk, [])
        right = sum(latest[i] for i in ids)
        mean, low, high = _beta(right, len(ids))
        result.append(DomainMastery(d.pk, d.code, d.name, len(ids), right, d.published, mean, low, high))
    return result


def due_cards_count(learner: User) -> int:
    return Card.objects.filter(learner=learner, due__lte=timezone.now(), item__status=ItemStatus.PUBLISHED).count()


def candidate_item_ids(
    *, learner: User, track: Track, mode: str, domain_codes: list[str], tags: list[str]
) -> list[int]:
    """Published items of the track matching the filters, for the chosen mode."""
    qs = Item.objects.filter(status=ItemStatus.PUBLISHED, item_domains__domain__track=track)
    if domain_codes:
        qs = qs.filter(item_domains__domain__code__in=domain_codes, item_domains__domain__track=track)
    if tags:
        qs = qs.filter(tags__name__in=tags)
    ids = set(qs.values_list("id", flat=True))
    if mode == "new":
        ids -= set(Response.objects.filter(learner=learner).values_list("item_id", flat=True))
    elif mode == "missed":
        ids &= {i for i, ok in latest_results(learner).items() if not ok}
    elif mode == "flagged":
        ids &= set(ItemFlag.objects.filter(learner=learner, flagged=True).values_list("item_id", flat=True))
    elif mode == "due":
        ids &= set(Card.objects.filter(learner=learner, due__lte=timezone.now()).values_list("item_id", flat=True))
    return sorted(ids)


@dataclass(frozen=True)
class TrendPoint:
    week_start: str
    answered: int
    percent_right: int


def readiness_trend(learner: User, track: Track, *, weeks: int = 8) -> list[TrendPoint]:
    """Percent right per week over the last ``weeks`` weeks, for the track's items (one query)."""
    from django.db.models.functions import TruncWeek

    since = timezone.now() - timedelta(weeks=weeks)
    rows = (
        Response.objects.filter(learner=learner, answered_at__gte=since, item__item_domains__domain__track=track)
        .annotate(week=TruncWeek("answered_at"))
        .values("week")
        .annotate(n=Count("id", distinct=True), right=Count("id", distinct=True, filter=Q(correct=True)))
        .order_by("week")
    )
    return [TrendPoint(r["week"].date().isoformat(), r["n"], round(100 * r["right"] / r["n"])) for r in rows]


@dataclass(frozen=True)
class NextAction:
    text: str
    url_name: str
    method: str = "get"


def next_action(learner: User, mastery: list[DomainMastery], due: int) -> NextAction:
    """The one thing to do next: due reviews first, then the weakest little-covered domain, then a mock exam."""
    if due:
        return NextAction(f"Review the {due} item{'s' if due != 1 else ''} due today.", "practice:review", "post")
    practised = [m for m in mastery if m.published]
    if practised:
        weakest = min(practised, key=lambda m: (m.high if m.answered else -1.0, m.coverage))
        if weakest.coverage < 0.5 or weakest.mean < 0.7:
            return NextAction(f"Practise {weakest.name}: your weakest or least-covered domain.", "practice:home")
    return NextAction("Sit a timed mock exam to check your readiness.", "exams:home")

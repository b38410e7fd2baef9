"""Writes for practice: start a session (with weak-domain targeting), record answers (tutor feedback and an
FSRS review), flags and notes."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from trainer.accounts.models import User
from trainer.bank.models import Item, ItemDomain, Track
from trainer.bank.presentation import Feedback, LearnerItem, feedback_view, learner_view
from trainer.bank.scoring import normalise_response, score_response
from trainer.bank.services import item_versions_lock
from trainer.practice.models import Card, ItemFlag, PracticeMode, PracticeSession, Response
from trainer.practice.selectors import candidate_item_ids, latest_results, mastery_by_domain
from trainer.practice.srs import card_review

MAX_SESSION_ITEMS = 100


class PracticeError(ValueError):
    """Something the learner can fix (no items match the filters, a session already finished …)."""


def _choose_smart(*, learner: User, track: Track, candidates: list[int], count: int, rng: random.Random) -> list[int]:
    """Due reviews first (up to half the session), then items drawn from domains weighted by weakness and
    uncertainty, unseen items before seen ones within a domain."""
    now = timezone.now()
    pool = set(candidates)
    due = list(
        Card.objects.filter(learner=learner, item_id__in=pool, due__lte=now)
        .order_by("due")
        .values_list("item_id", flat=True)
    )[: max(1, count // 2)]
    chosen = list(due)
    pool -= set(chosen)
    seen = set(latest_results(learner))
    weight = {m.domain_id: (1 - m.mean) + (m.high - m.low) for m in mastery_by_domain(learner, track)}
    by_domain: dict[int, list[int]] = {}
    for item_id, domain_id in (
        ItemDomain.objects.filter(item_id__in=pool, domain__track=track)
        .order_by("item_id", "order")
        .values_list("item_id", "domain_id")
    ):
        if all(item_id not in ids for ids in by_domain.values()):
            by_domain.setdefault(domain_id, []).append(item_id)
    for ids in by_domain.values():
        rng.shuffle(ids)
        ids.sort(key=lambda i: i in seen)  # stable: unseen first, random within each group
    while len(chosen) < count and any(by_domain.values()):
        live = [d for d, ids in by_domain.items() if ids]
        domain = rng.choices(live, weights=[weight.get(d, 1.0) + 0.05 for d in live])[0]
        chosen.append(by_domain[domain].pop(0))
    return chosen


@transaction.atomic
def practice_session_start(
    *, learner: User, track: Track, mode: str = PracticeMode.SMART, domain_codes: list[str] | None = None,
    tags: list[str] | None = None, count: int = 10, seed: int | None = None,
) -> PracticeSession:  # fmt: skip
    count = max(1, min(count, MAX_SESSION_ITEMS))
    mode = PracticeMode(mode)
    candidates = candidate_item_ids(
        learner=learner, track=track, mode=mode, domain_codes=domain_codes or [], tags=tags or []
    )
    if not candidates:
        raise PracticeError(f"No published {track.code} items match these filters ({mode.label.lower()}).")
    rng = random.Random(seed if seed is not None else f"{learner.pk}:{timezone.now().isoformat()}")  # noqa: S311
    if mode == PracticeMode.SMART:
        queue = _choose_smart(learner=learner, track=track, candidates=candidates, count=count, rng=rng)
    else:
        rng.shuffle(candidates)
        queue = candidates[:count]
    return PracticeSession.objects.create(
        learner=learner, track=track, mode=mode, queue=queue,
        filters={"domains": domain_codes or [], "tags": tags or [], "count": count},
    )  # fmt: skip


@dataclass(frozen=True)
class CurrentQuestion:
    item: Item
    view: LearnerItem
    number: int
    total: int
    answer: Response | None  # the recorded answer, once there is one
    feedback: Feedback | None  # only present when ``answer`` is
    flag: ItemFlag | None


def practice_current(session: PracticeSession) -> CurrentQuestion | None:
    """The question at the session's position, with feedback only if the learner's answer is recorded."""
    if session.finished:
        return None
    item = Item.objects.select_related("current_version").get(pk=session.queue[session.position])
    answer = Response.objects.select_related("version").filter(session=session, item=item).first()
    version = answer.version if answer else item.current_version
    assert version is not None
    feedback = (
        feedback_view(
            version, item_type=item.type, response=answer.response, correct=answer.correct, score=answer.score
        )
        if answer
        else None
    )
    return CurrentQuestion(
        item=item,
        view=learner_view(version, item_type=item.type, seed=session.pk),
        number=session.position + 1,
        total=len(session.queue),
        answer=answer,
        feedback=feedback,
        flag=ItemFlag.objects.filter(learner=session.learner, item=item).first(),
    )


def practice_answer(
    *, session: PracticeSession, item_id: int, raw: dict[str, Any], confidence: int | None = None,
    time_ms: int | None = None,
) -> Response:  # fmt: skip
    """Record the learner's answer to the current question (idempotent: a double submit returns the first
    answer), schedule the item's next review, and lock the version so later edits make a new one."""
    if session.finished or session.queue[session.position] != item_id:
        existing = Response.objects.filter(session=session, item_id=item_id).first()
        if existing:
            return existing
        raise PracticeError("That question is not the current one in this session.")
    item = Item.objects.select_related("current_version").get(pk=item_id)
    version = item.current_version
    assert version is not None
    response = normalise_response(version, item.type, raw)
    result = score_response(version, item.type, response)
    now = timezone.now()
    try:
        with transaction.atomic():
            answer = Response.objects.create(
                learner=session.learner, item=item, version=version, session=session, response=response,
                correct=result.correct, score=result.score, confidence=confidence, time_ms=time_ms,
            )  # fmt: skip
            item_versions_lock(version_ids=[version.pk])
            card_review(
                learner=session.learner, item=item, correct=result.correct, confidence=confidence, when=now,
                duration_ms=time_ms,
            )  # fmt: skip
    except IntegrityError:
        return Response.objects.get(session=session, item_id=item_id)
    return answer


def practice_advance(*, session: PracticeSession) -> PracticeSession:
    """Move to the next question; only once the current one is answered."""
    if session.finished:
        return session
    if not Response.objects.filter(session=session, item_id=session.queue[session.position]).exists():
        raise PracticeError("Answer this question before moving on.")
    PracticeSession.objects.filter(pk=session.pk, position=session.position).update(position=session.position + 1)
    session.refresh_from_db()
    done = session.position >= len(session.queue)
    if done and session.finished_at is None:
        session.finished_at = timezone.now()
        session.save(update_fields=["finished_at"])
    return session


def item_flag_set(*, learner: User, item: Item, flagged: bool | None = None, note: str | None = None) -> ItemFlag:
    flag, _ = ItemFlag.objects.get_or_create(learner=learner, item=item)
    if flagged is not None:
        flag.flagged = flagged
    if note is not None:
        flag.note = note[:4000]
    flag.save()
    return flag

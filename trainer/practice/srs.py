"""Spaced review with FSRS (the ``fsrs`` package): one card per learner and item; an answer is a review."""

from __future__ import annotations

import datetime

from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler, State

from trainer.accounts.models import User
from trainer.bank.models import Item
from trainer.practice.models import Card, ReviewLog

SCHEDULER = Scheduler(enable_fuzzing=False)


class Confidence:
    GUESS = 1
    UNSURE = 2
    SURE = 3


def rating_for(*, correct: bool, confidence: int | None) -> Rating:
    """Wrong → Again; right but guessed → Hard; right → Good; right and sure → Easy."""
    if not correct:
        return Rating.Again
    if confidence == Confidence.GUESS:
        return Rating.Hard
    if confidence == Confidence.SURE:
        return Rating.Easy
    return Rating.Good


def _to_fsrs(card: Card) -> FsrsCard:
    return FsrsCard(
        card_id=card.pk or 0,
        state=State(card.state),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=card.due,
        last_review=card.last_review,
    )


def card_review(
    *, learner: User, item: Item, correct: bool, confidence: int | None, when: datetime.datetime,
    duration_ms: int | None = None,
) -> Card:  # fmt: skip
    card = Card.objects.select_for_update().filter(learner=learner, item=item).first()
    if card is None:
        card = Card(learner=learner, item=item, due=when)
    rating = rating_for(correct=correct, confidence=confidence)
    updated, _ = SCHEDULER.review_card(_to_fsrs(card), rating, review_datetime=when)
    card.state = int(updated.state)
    card.step = updated.step
    card.stability = updated.stability
    card.difficulty = updated.difficulty
    card.due = updated.due
    card.last_review = updated.last_review
    card.reviews += 1
    card.lapses += rating == Rating.Again and card.reviews > 1
    card.save()
    ReviewLog.objects.create(card=card, rating=int(rating), review_datetime=when, review_duration_ms=duration_ms)
    return card

"""Reads for mock exams: the navigator, the question on screen, score reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, Case, QuerySet, Value, When

from trainer.accounts.models import User
from trainer.bank.models import Blueprint
from trainer.bank.presentation import Feedback, LearnerItem, feedback_view, learner_view
from trainer.exams.models import AttemptItem, AttemptStatus, ExamAttempt


@dataclass(frozen=True)
class NavCell:
    position: int
    answered: bool
    flagged: bool


def navigator(attempt: ExamAttempt) -> list[NavCell]:
    rows = attempt.attempt_items.values_list("position", "answered_at", "flagged")
    return [NavCell(p, a is not None, f) for p, a, f in rows]


@dataclass(frozen=True)
class ExamQuestion:
    slot: AttemptItem
    view: LearnerItem
    total: int


def exam_question(attempt: ExamAttempt, position: int) -> ExamQuestion:
    """The question as shown during the exam: never the key (``learner_view`` cannot carry one)."""
    slot = AttemptItem.objects.select_related("version", "item").get(attempt=attempt, position=position)
    return ExamQuestion(
        slot=slot,
        view=learner_view(slot.version, item_type=slot.item.type, seed=attempt.pk),
        total=attempt.attempt_items.count(),
    )


@dataclass(frozen=True)
class ReviewedItem:
    slot: AttemptItem
    view: LearnerItem
    feedback: Feedback


def exam_review_items(attempt: ExamAttempt) -> list[ReviewedItem]:
    """Every item with its key and rationales: only for a submitted attempt."""
    if attempt.status == AttemptStatus.ACTIVE:
        raise PermissionError("The key is shown only after the attempt is submitted.")
    out = []
    for slot in attempt.attempt_items.select_related("version", "item", "domain"):
        out.append(
            ReviewedItem(
                slot=slot,
                view=learner_view(slot.version, item_type=slot.item.type, seed=attempt.pk),
                feedback=feedback_view(
                    slot.version,
                    item_type=slot.item.type,
                    response=slot.response or {},
                    correct=bool(slot.correct),
                    score=slot.score or 0.0,
                ),
            )
        )
    return out


def earlier_attempts(attempt: ExamAttempt) -> QuerySet[ExamAttempt]:
    return (
        ExamAttempt.objects.filter(learner_id=attempt.learner_id, blueprint=attempt.blueprint, form=attempt.form)
        .exclude(status=AttemptStatus.ACTIVE)
        .exclude(pk=attempt.pk)
        .filter(started_at__lt=attempt.started_at)
        .order_by("-started_at")[:5]
    )


def time_stats(attempt: ExamAttempt) -> dict[str, Any]:
    times = list(attempt.attempt_items.values_list("time_spent_ms", flat=True))
    answered = [t for t in times if t]
    return {
        "total_s": round(sum(times) / 1000),
        "mean_s": round(sum(answered) / len(answered) / 1000, 1) if answered else 0,
        "max_s": round(max(times) / 1000, 1) if times else 0,
    }


def exams_available(learner: User) -> QuerySet[Blueprint]:
    """Every blueprint, the learner's own exam track first (``own_track`` marks them); other tracks stay
    available, as a learner may practise for a second certification."""
    own = Case(
        When(track__code=learner.exam_track, then=Value(True)), default=Value(False), output_field=BooleanField()
    )
    return (
        Blueprint.objects.select_related("track")
        .annotate(own_track=own)
        .order_by("-own_track", "track__order", "-is_default", "code")
    )

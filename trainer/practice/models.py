from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from trainer.bank.models import Item, ItemVersion, Track


class PracticeMode(models.TextChoices):
    SMART = "smart", "Smart mix (due reviews, weak domains, unseen items)"
    NEW = "new", "New items only"
    MISSED = "missed", "Missed before"
    FLAGGED = "flagged", "Flagged"
    DUE = "due", "Due for review"


class PracticeSession(models.Model):
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practice_sessions")
    track = models.ForeignKey(Track, on_delete=models.PROTECT)
    mode = models.CharField(max_length=16, choices=PracticeMode.choices, default=PracticeMode.SMART)
    assignment = models.ForeignKey(
        "courses.Assignment", null=True, blank=True, on_delete=models.SET_NULL, related_name="practice_sessions"
    )
    filters: models.JSONField[dict[str, Any]] = models.JSONField(default=dict, blank=True)
    queue: models.JSONField[list[int]] = models.JSONField(default=list)  # item ids, in order
    position = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created",)

    def __str__(self) -> str:
        return f"practice {self.pk} ({self.learner_id})"

    @property
    def finished(self) -> bool:
        return self.position >= len(self.queue)


class Response(models.Model):
    """A learner's recorded answer to one item version (practice or review)."""

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="responses")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="responses")
    version = models.ForeignKey(ItemVersion, on_delete=models.PROTECT, related_name="responses")
    session = models.ForeignKey(
        PracticeSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    response: models.JSONField[dict[str, Any]] = models.JSONField()
    correct = models.BooleanField()
    score = models.FloatField()
    confidence = models.PositiveSmallIntegerField(null=True, blank=True)
    time_ms = models.PositiveIntegerField(null=True, blank=True)
    answered_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-answered_at",)
        indexes = [models.Index(fields=("learner", "item", "-answered_at"))]
        constraints = [
            models.UniqueConstraint(
                fields=("session", "item"),
                condition=models.Q(session__isnull=False),
                name="response_once_per_session_item",
            )
        ]

    def __str__(self) -> str:
        return f"{self.learner_id} → {self.item_id}: {'right' if self.correct else 'wrong'}"


class ItemFlag(models.Model):
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="item_flags")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="flags")
    flagged = models.BooleanField(default=False)
    note = models.TextField(blank=True, max_length=4000)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=("learner", "item"), name="itemflag_unique")]

    def __str__(self) -> str:
        return f"{self.learner_id}/{self.item_id}"


class Card(models.Model):
    """One FSRS card per learner and item (state as the ``fsrs`` package defines it)."""

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cards")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="cards")
    state = models.PositiveSmallIntegerField(default=1)
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    stability = models.FloatField(null=True, blank=True)
    difficulty = models.FloatField(null=True, blank=True)
    due = models.DateTimeField(db_index=True)
    last_review = models.DateTimeField(null=True, blank=True)
    reviews = models.PositiveIntegerField(default=0)
    lapses = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=("learner", "item"), name="card_unique")]
        indexes = [models.Index(fields=("learner", "due"))]

    def __str__(self) -> str:
        return f"card {self.learner_id}/{self.item_id} due {self.due:%Y-%m-%d}"


class ReviewLog(models.Model):
    """Every FSRS review, kept so the scheduler's parameters can be optimised on real data later."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="logs")
    rating = models.PositiveSmallIntegerField()
    review_datetime = models.DateTimeField()
    review_duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ("review_datetime",)

    def __str__(self) -> str:
        return f"{self.card_id} rated {self.rating}"

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from trainer.bank.models import Blueprint, Domain, Item, ItemVersion, Track


class ExamForm(models.Model):
    """A fixed form an instructor published: the same items, in the same order, for everyone who sits it."""

    name = models.CharField(max_length=200)
    track = models.ForeignKey(Track, on_delete=models.PROTECT)
    blueprint = models.ForeignKey(Blueprint, null=True, blank=True, on_delete=models.SET_NULL)
    time_limit_minutes = models.PositiveIntegerField()
    published = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class ExamFormItem(models.Model):
    form = models.ForeignKey(ExamForm, on_delete=models.CASCADE, related_name="form_items")
    position = models.PositiveIntegerField()
    item = models.ForeignKey(Item, on_delete=models.PROTECT)
    domain = models.ForeignKey(Domain, null=True, blank=True, on_delete=models.PROTECT)
    pilot = models.BooleanField(default=False)

    class Meta:
        ordering = ("position",)
        constraints = [models.UniqueConstraint(fields=("form", "position"), name="examformitem_unique_position")]

    def __str__(self) -> str:
        return f"{self.form_id}#{self.position}"


class AttemptStatus(models.TextChoices):
    ACTIVE = "active", "In progress"
    SUBMITTED = "submitted", "Submitted"
    EXPIRED = "expired", "Submitted at the deadline"


class ExamAttempt(models.Model):
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exam_attempts")
    track = models.ForeignKey(Track, on_delete=models.PROTECT)
    blueprint = models.ForeignKey(Blueprint, null=True, blank=True, on_delete=models.PROTECT)
    form = models.ForeignKey(ExamForm, null=True, blank=True, on_delete=models.PROTECT)
    assignment = models.ForeignKey(
        "courses.Assignment", null=True, blank=True, on_delete=models.SET_NULL, related_name="exam_attempts"
    )
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=AttemptStatus.choices, default=AttemptStatus.ACTIVE)
    started_at = models.DateTimeField()
    deadline = models.DateTimeField()
    time_multiplier = models.FloatField(default=1.0, help_text="Accommodation: extra time (1.5 = time and a half).")
    submitted_at = models.DateTimeField(null=True, blank=True)
    scored_total = models.PositiveIntegerField(default=0)
    scored_right = models.FloatField(default=0)
    percent = models.FloatField(null=True, blank=True)
    pass_mark_percent = models.FloatField(null=True, blank=True)
    domain_results: models.JSONField[list[dict[str, Any]]] = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ("-started_at",)
        constraints = [
            models.UniqueConstraint(
                fields=("learner", "blueprint"),
                condition=models.Q(status="active", blueprint__isnull=False, assignment__isnull=True),
                name="one_active_attempt_per_blueprint",
            ),
            models.UniqueConstraint(
                fields=("learner", "form"),
                condition=models.Q(status="active", form__isnull=False, assignment__isnull=True),
                name="one_active_attempt_per_form",
            ),
            models.UniqueConstraint(
                fields=("learner", "assignment"),
                condition=models.Q(status="active", assignment__isnull=False),
                name="one_active_attempt_per_assignment",
            ),
        ]  # fmt: skip
        indexes = [models.Index(fields=("status", "deadline"))]

    def __str__(self) -> str:
        return f"{self.name} ({self.learner_id}, {self.status})"

    @property
    def is_active(self) -> bool:
        return self.status == AttemptStatus.ACTIVE


class AttemptItem(models.Model):
    """One question of an attempt: the exact version shown, the learner's saved answer and flag."""

    attempt = models.ForeignKey(ExamAttempt, on_delete=models.CASCADE, related_name="attempt_items")
    position = models.PositiveIntegerField()
    item = models.ForeignKey(Item, on_delete=models.PROTECT)
    version = models.ForeignKey(ItemVersion, on_delete=models.PROTECT)
    domain = models.ForeignKey(Domain, null=True, blank=True, on_delete=models.PROTECT)
    pilot = models.BooleanField(default=False, help_text="Unscored, as pilot items are on the real exams.")
    response: models.JSONField[dict[str, Any] | None] = models.JSONField(null=True, blank=True)
    flagged = models.BooleanField(default=False)
    answered_at = models.DateTimeField(null=True, blank=True)
    time_spent_ms = models.PositiveIntegerField(default=0)
    correct = models.BooleanField(null=True)
    score = models.FloatField(null=True)

    class Meta:
        ordering = ("position",)
        constraints = [models.UniqueConstraint(fields=("attempt", "position"), name="attemptitem_unique_position")]

    def __str__(self) -> str:
        return f"{self.attempt_id}#{self.position}"

"""Lab attempts and their grading runs: each "Check my work" is a run whose checks are written one by one."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from labs.nodes.models import Node


class AttemptStatus(models.TextChoices):
    ACTIVE = "active", "In progress"
    PASSED = "passed", "Passed"
    CLOSED = "closed", "Closed"


class LabAttempt(models.Model):
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lab_attempts")
    lab_slug = models.SlugField(max_length=64)
    node = models.ForeignKey(Node, on_delete=models.SET_NULL, null=True, blank=True, related_name="lab_attempts")
    started = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=AttemptStatus.choices, default=AttemptStatus.ACTIVE)
    best_score = models.PositiveIntegerField(default=0)
    answers = models.JSONField(default=dict, blank=True, help_text="Task key → the learner's typed answer.")

    class Meta:
        ordering = ["-started", "-id"]
        indexes = [models.Index(fields=["learner", "lab_slug"])]

    def __str__(self) -> str:
        return f"{self.lab_slug} by {self.learner_id}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class GradingRun(models.Model):
    attempt = models.ForeignKey(LabAttempt, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    score = models.PositiveIntegerField(default=0)
    max_score = models.PositiveIntegerField(default=0)
    total_checks = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    enqueues = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["status", "created"])]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.status})"


class CheckResult(models.Model):
    run = models.ForeignKey(GradingRun, on_delete=models.CASCADE, related_name="results")
    order = models.PositiveIntegerField()
    task_key = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=64)
    passed = models.BooleanField()
    points = models.PositiveIntegerField(default=0)
    max_points = models.PositiveIntegerField(default=0)
    evidence = models.TextField()
    hint = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "order"]
        constraints = [models.UniqueConstraint(fields=["run", "order"], name="check_result_unique_order")]

    def __str__(self) -> str:
        return f"{self.name}: {'pass' if self.passed else 'fail'}"

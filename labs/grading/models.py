"""Lab attempts and their grading runs: each "Check my work" is a run whose checks are written one by one."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models

from labs.nodes.models import Node


class AttemptStatus(models.TextChoices):
    ACTIVE = "active", "In progress"
    PASSED = "passed", "Full marks (still open)"
    FINISHED = "finished", "Finished"
    EXPIRED = "expired", "Time ran out"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (AttemptStatus.ACTIVE, AttemptStatus.PASSED)


class LabAttempt(models.Model):
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lab_attempts")
    lab_slug = models.SlugField(max_length=64)
    node = models.ForeignKey(Node, on_delete=models.SET_NULL, null=True, blank=True, related_name="lab_attempts")
    started = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=AttemptStatus.choices, default=AttemptStatus.ACTIVE)
    best_score = models.PositiveIntegerField(default=0)
    max_score = models.PositiveIntegerField(default=0, help_text="The lab's points when the attempt started.")
    deadline = models.DateTimeField(null=True, blank=True, help_text="Started + the lab's time limit.")
    reset_at = models.DateTimeField(null=True, blank=True, help_text="Last reset: checks read what happened since.")
    ended = models.DateTimeField(null=True, blank=True)
    answers = models.JSONField(default=dict, blank=True, help_text="Task key → the learner's typed answer.")

    class Meta:
        ordering = ["-started", "-id"]
        indexes = [models.Index(fields=["learner", "lab_slug"]), models.Index(fields=["status", "deadline"])]

    def __str__(self) -> str:
        return f"{self.lab_slug} by {self.learner_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def checks_since(self) -> datetime:
        """Checks read only what happened since the attempt started, or since its last reset."""
        return self.reset_at or self.started


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


class PeerRole(models.TextChoices):
    MODALITY = "modality", "Modality"
    ARCHIVE = "archive", "Archive"
    WORKSTATION = "workstation", "Workstation"
    WORKLIST = "worklist", "Worklist provider"
    FAULTY = "faulty", "Faulty peer"


class LabPeer(models.Model):
    """A simulated peer of one lab attempt: a node of kind ``peer`` run by the node host, with its lab role and
    the settings of its simulated console (a modality's destination, association and character-set choices)."""

    attempt = models.ForeignKey(LabAttempt, on_delete=models.CASCADE, related_name="peers")
    key = models.SlugField(max_length=32)
    role = models.CharField(max_length=16, choices=PeerRole.choices)
    node = models.OneToOneField(Node, on_delete=models.CASCADE, related_name="lab_peer")
    settings = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["attempt", "key"]
        constraints = [models.UniqueConstraint(fields=["attempt", "key"], name="lab_peer_unique_key_per_attempt")]

    def __str__(self) -> str:
        return f"{self.key} ({self.role}) of attempt {self.attempt_id}"


class UploadedLab(models.Model):
    """An instructor's own lab: the YAML text as uploaded (validated by ``labs.scenarios.loader.parse_lab``),
    merged into the catalogue beside the bundled labs of ``fixtures/labs``."""

    slug = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    source = models.TextField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="uploaded_labs"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

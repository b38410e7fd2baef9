from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models

from trainer.bank.models import Blueprint, Track


def new_invite_code() -> str:
    return secrets.token_urlsafe(9)


class Course(models.Model):
    title = models.CharField(max_length=200)
    code = models.SlugField(max_length=40, unique=True, help_text="Short course code, e.g. pacs-101-fall")
    description = models.TextField(blank=True)
    track = models.ForeignKey(Track, on_delete=models.PROTECT)
    invite_code = models.CharField(max_length=32, unique=True, default=new_invite_code)
    invite_enabled = models.BooleanField(default=True)
    pass_mark_percent = models.FloatField(null=True, blank=True, help_text="Optional pass mark for exams.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    archived = models.BooleanField(default=False)

    class Meta:
        ordering = ("-created",)

    def __str__(self) -> str:
        return self.title


class Section(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="sections")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ("name",)
        constraints = [models.UniqueConstraint(fields=("course", "name"), name="section_unique_name")]

    def __str__(self) -> str:
        return self.name


class CourseRole(models.TextChoices):
    INSTRUCTOR = "instructor", "Instructor"
    ASSISTANT = "assistant", "Assistant"
    LEARNER = "learner", "Learner"


class Enrollment(models.Model):
    class Source(models.TextChoices):
        MANUAL = "manual", "Added by an instructor"
        INVITE = "invite", "Invite link or code"
        CSV = "csv", "CSV roster"
        LTI = "lti", "LMS (LTI)"

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments")
    role = models.CharField(max_length=16, choices=CourseRole.choices, default=CourseRole.LEARNER)
    section = models.ForeignKey(Section, null=True, blank=True, on_delete=models.SET_NULL)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.MANUAL)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=("course", "user"), name="enrollment_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.course_id} as {self.role}"


class AssignmentKind(models.TextChoices):
    PRACTICE = "practice", "Practice set"
    EXAM = "exam", "Mock exam"
    LAB = "lab", "Lab"


class Assignment(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="assignments")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=AssignmentKind.choices)
    blueprint = models.ForeignKey(Blueprint, null=True, blank=True, on_delete=models.PROTECT)
    exam_form = models.ForeignKey("exams.ExamForm", null=True, blank=True, on_delete=models.PROTECT)
    practice_count = models.PositiveIntegerField(null=True, blank=True)
    practice_domains: models.JSONField[list[str]] = models.JSONField(default=list, blank=True)
    lab_slug = models.SlugField(max_length=80, blank=True)
    opens_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    attempts_allowed = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    time_limit_minutes = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: the blueprint's.")
    points = models.PositiveIntegerField(default=100)
    published = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("due_at", "created")

    def __str__(self) -> str:
        return self.title


class Accommodation(models.Model):
    """Per-learner adjustments honoured by the exam timer and the due dates."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="accommodations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="accommodations")
    time_multiplier = models.FloatField(default=1.0)
    extended_due_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=("course", "user"), name="accommodation_unique")]

    def __str__(self) -> str:
        return f"{self.user_id}: x{self.time_multiplier}"


class GradeOverride(models.Model):
    """A manual grade. Rows are never edited: the newest one counts, the rest are the audit trail."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="overrides")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    percent = models.FloatField(null=True, blank=True, help_text="Empty clears the override.")
    reason = models.CharField(max_length=500)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created",)

    def __str__(self) -> str:
        return f"{self.assignment_id}/{self.learner_id}: {self.percent}"


class RosterImport(models.Model):
    """What a CSV roster upload did, for the instructor's record."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="roster_imports")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    report: models.JSONField[dict[str, Any]] = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"roster import {self.pk}"

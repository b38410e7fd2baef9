"""Reads for the LTI tool."""

from __future__ import annotations

from typing import Any

from django.db.models import Max, QuerySet
from lti_tool.models import Key

from trainer.accounts.models import User
from trainer.courses.models import Assignment, AssignmentKind, Course, GradeOverride
from trainer.courses.selectors import assignment_lab_scores
from trainer.exams.models import AttemptStatus, ExamAttempt
from trainer.lti.models import CourseContext, ScorePassback


def learner_grade_percent(*, assignment: Assignment, learner: User) -> float | None:
    """The grade the gradebook shows for this learner and assignment: the newest override when it sets a
    percent, else the best submitted attempt — for a lab, the best graded lab attempt (None when there is
    neither)."""
    override = GradeOverride.objects.filter(assignment=assignment, learner=learner).order_by("-created", "-pk").first()
    if override is not None and override.percent is not None:
        return override.percent
    if assignment.kind == AssignmentKind.LAB:
        lab = assignment_lab_scores(assignment, [learner.pk])
        score = lab.get((learner.pk, assignment.lab_slug))
        return score.exact_percent if score is not None else None  # points/max exactly, not the shown rounding
    best = (
        ExamAttempt.objects.filter(assignment=assignment, learner=learner)
        .exclude(status=AttemptStatus.ACTIVE)
        .aggregate(best=Max("percent"))["best"]
    )
    return float(best) if best is not None else None


def tool_jwks() -> dict[str, Any]:
    """The tool's public keys: every active key, the signing one and those not yet retired."""
    return {"keys": [key.as_jwk() for key in Key.objects.active().order_by("-datetime_created", "-pk")]}


def deep_link_assignments(course: Course) -> QuerySet[Assignment]:
    return course.assignments.filter(published=True).order_by("due_at", "created")


def course_lti_links(course: Course) -> QuerySet[CourseContext]:
    return CourseContext.objects.filter(course=course).select_related("context__deployment__registration")


def passbacks_for(assignment: Assignment) -> QuerySet[ScorePassback]:
    return ScorePassback.objects.filter(assignment=assignment).select_related("learner", "line_item")

"""Reads of the labs: a learner sees only their own attempts and runs (404 otherwise)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from labs.grading.models import GradingRun, LabAttempt
from labs.nodes.models import Node


def attempts_of(user: Any, slug: str | None = None) -> QuerySet[LabAttempt]:
    qs = LabAttempt.objects.filter(learner=user).select_related("node")
    return qs.filter(lab_slug=slug) if slug else qs


def attempt_of(user: Any, attempt_id: int) -> LabAttempt:
    return get_object_or_404(attempts_of(user), pk=attempt_id)


def run_of(user: Any, run_id: int) -> GradingRun:
    return get_object_or_404(GradingRun.objects.select_related("attempt"), pk=run_id, attempt__learner=user)


def run_progress(run: GradingRun) -> int:
    """Percent of the run's checks written so far."""
    if not run.total_checks:
        return 100
    return min(100, round(100 * run.results.count() / run.total_checks))


def attempt_nodes(attempt: LabAttempt) -> list[Node]:
    """Every node of the attempt: the learner's lab node (and, with simulated peers, the peers' nodes). Anything
    that touches all of an attempt's nodes (reset, finish, cleanup) goes through this."""
    return [attempt.node] if attempt.node is not None else []

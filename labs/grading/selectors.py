"""Reads of the labs: a learner sees only their own attempts and runs (404 otherwise)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from labs.grading.models import CheckResult, GradingRun, LabAttempt, LabPeer, UploadedLab
from labs.nodes.models import AssociationLog, Node
from labs.scenarios.schema import LabSpec, PeerSpec


def attempts_of(user: Any, slug: str | None = None) -> QuerySet[LabAttempt]:
    qs = LabAttempt.objects.filter(learner=user).select_related("node")
    return qs.filter(lab_slug=slug) if slug else qs


def attempt_of(user: Any, attempt_id: int) -> LabAttempt:
    return get_object_or_404(attempts_of(user), pk=attempt_id)


def run_of(user: Any, run_id: int) -> GradingRun:
    return get_object_or_404(GradingRun.objects.select_related("attempt"), pk=run_id, attempt__learner=user)


def run_results(run: GradingRun, lab: LabSpec | None) -> list[CheckResult]:
    """The run's per-check results in order, each with ``task_title``: the lab task it belongs to, so that two
    checks of the same kind in different tasks can be told apart."""
    titles = {t.key: t.title for t in lab.tasks} if lab is not None else {}
    results = list(run.results.all())
    for result in results:
        result.task_title = titles.get(result.task_key, result.task_key)  # type: ignore[attr-defined]
    return results


def run_progress(run: GradingRun) -> int:
    """Percent of the run's checks written so far."""
    if not run.total_checks:
        return 100
    return min(100, round(100 * run.results.count() / run.total_checks))


def attempt_nodes(attempt: LabAttempt) -> list[Node]:
    """Every node of an attempt: the learner's lab node, then its simulated peers (what reset, finish and
    cleanup must touch)."""
    nodes = [attempt.node] if attempt.node is not None else []
    return nodes + [p.node for p in attempt.peers.select_related("node").order_by("key")]


def attempt_peers(attempt: LabAttempt) -> list[LabPeer]:
    return list(attempt.peers.select_related("node").order_by("key"))


def peer_of(user: Any, attempt_id: int, key: str) -> LabPeer:
    """A peer of one of the user's attempts, or 404."""
    return get_object_or_404(
        LabPeer.objects.select_related("attempt", "node"), attempt__pk=attempt_id, attempt__learner=user, key=key
    )


def attempt_placeholders(attempt: LabAttempt) -> dict[str, str]:
    """Values of the lab text placeholders: ``{ae}``, ``{host}``, ``{port}`` (the learner's node) and
    ``{peer_ae:KEY}``, ``{peer_port:KEY}`` (its peers)."""
    from labs.nodes.selectors import node_public_host

    values: dict[str, str] = {}
    if attempt.node is not None:
        values |= {"ae": attempt.node.ae_title, "port": str(attempt.node.port), "host": node_public_host(attempt.node)}
    for peer in attempt.peers.select_related("node"):
        values[f"peer_ae:{peer.key}"] = peer.node.ae_title
        values[f"peer_port:{peer.key}"] = str(peer.node.port)
    return values


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    """Replace ``{name}`` placeholders that have a value; anything else is left as written."""
    return re.sub(r"\{([a-z_]+(?::[a-z0-9-]+)?)\}", lambda m: values.get(m.group(1), m.group(0)), text)


def peer_log(peer: LabPeer, *, limit: int = 15) -> list[AssociationLog]:
    """The peer's newest associations (its console shows what it sent and what reached it)."""
    return list(AssociationLog.objects.filter(node=peer.node).order_by("-started_at", "-id")[:limit])


def peer_spec(peer: LabPeer, lab: LabSpec) -> PeerSpec | None:
    """The lab's declaration of this peer (None if the lab file no longer declares it)."""
    return next((p for p in lab.peers if p.key == peer.key), None)


@dataclass
class LabScore:
    """A learner's standing on one lab: best score over their graded attempts (score/max), attempts, one open."""

    best: int = 0
    max: int = 0
    attempts: int = 0
    graded: bool = False
    open: bool = False
    passed: bool = False

    @property
    def exact_percent(self) -> float | None:
        return 100 * self.best / self.max if self.graded and self.max else None

    @property
    def percent(self) -> float | None:
        exact = self.exact_percent
        return round(exact, 1) if exact is not None else None

    @property
    def label(self) -> str:
        return f"{self.best}/{self.max}" if self.graded else ""


def lab_scores(
    *,
    learner_ids: Iterable[int],
    slugs: Iterable[str],
    since: datetime | None = None,
    until: Mapping[int, datetime | None] | None = None,
    first: int | None = None,
) -> dict[tuple[int, str], LabScore]:
    """Best lab scores per (learner, lab) — the gradebook's and the LMS's number for a lab assignment. Only
    finished grading runs count; ``since`` ignores attempts started before it, ``until`` (per learner: a due
    date, extended or not) ignores attempts started and runs finished after it, ``first`` counts only each
    learner's first attempts (an assignment's attempts allowed). Two queries whatever the number of learners."""
    from labs.grading.models import OPEN_STATUSES, RunStatus

    deadlines = until or {}
    attempts = LabAttempt.objects.filter(learner_id__in=list(learner_ids), lab_slug__in=list(slugs))
    if since is not None:
        attempts = attempts.filter(started__gte=since)
    runs: dict[int, list[tuple[int, datetime | None]]] = defaultdict(list)
    for attempt_id, points, finished in GradingRun.objects.filter(
        attempt__in=attempts, status=RunStatus.DONE
    ).values_list("attempt_id", "score", "finished"):
        runs[attempt_id].append((points, finished))
    out: dict[tuple[int, str], LabScore] = {}
    rows = attempts.order_by("started", "pk").values("pk", "learner_id", "lab_slug", "max_score", "status", "started")
    for a in rows:
        due = deadlines.get(a["learner_id"])
        if due is not None and a["started"] > due:
            continue
        score = out.setdefault((a["learner_id"], a["lab_slug"]), LabScore())
        if first is not None and score.attempts >= first:
            continue
        score.attempts += 1
        score.open = score.open or a["status"] in OPEN_STATUSES
        in_time = [s for s, finished in runs[a["pk"]] if due is None or (finished is not None and finished <= due)]
        if in_time:
            best = max(in_time)
            ratio = best / a["max_score"] if a["max_score"] else 0.0
            if not score.graded or ratio > (score.best / score.max if score.max else 0.0):
                score.best, score.max = best, a["max_score"]
            score.graded = True
            score.passed = score.passed or (a["max_score"] > 0 and best >= a["max_score"])
    return out


# --- instructors: their courses' learners' attempts ---------------------------------------------------------


def attempts_of_course(course: Any) -> QuerySet[LabAttempt]:
    """Lab attempts of the course's learners (every lab), by lab then learner, newest first."""
    from trainer.courses.models import CourseRole

    learners = course.enrollments.filter(role=CourseRole.LEARNER).values("user_id")
    return (
        LabAttempt.objects.filter(learner_id__in=learners)
        .select_related("learner")
        .annotate(run_count=Count("runs"))
        .order_by("lab_slug", "learner__username", "-started")
    )


def attempt_for_teacher(user: Any, attempt_id: int) -> LabAttempt:
    """An attempt of a learner in a course ``user`` teaches (404 otherwise, so its existence does not leak)."""
    from trainer.courses.models import CourseRole, Enrollment
    from trainer.courses.selectors import courses_taught_by

    learners = Enrollment.objects.filter(course__in=courses_taught_by(user), role=CourseRole.LEARNER).values("user_id")
    return get_object_or_404(LabAttempt.objects.select_related("learner"), pk=attempt_id, learner_id__in=learners)


def uploaded_labs_of(user: Any) -> QuerySet[UploadedLab]:
    qs = UploadedLab.objects.select_related("uploaded_by")
    return qs if user.is_platform_admin else qs.filter(uploaded_by=user)

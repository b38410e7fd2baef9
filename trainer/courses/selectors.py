"""Reads for courses: who may see what, the gradebook, per-domain heat map, item analysis, cohort readiness."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from labs.grading.selectors import LabScore, lab_scores
from trainer.accounts.models import User
from trainer.bank.models import Item, ItemType
from trainer.courses.analysis import (
    FLAG_MIN_RESPONSES,
    Answer,
    FormStats,
    ItemKey,
    ItemStats,
    analyse_form,
    analyse_items,
)
from trainer.courses.models import (
    Accommodation,
    Assignment,
    AssignmentKind,
    Course,
    CourseRole,
    Enrollment,
    GradeOverride,
)
from trainer.exams.models import AttemptItem, AttemptStatus, ExamAttempt
from trainer.practice.models import PracticeSession, Response
from trainer.practice.selectors import mastery_by_domain

STAFF_ROLES = (CourseRole.INSTRUCTOR, CourseRole.ASSISTANT)


def courses_taught_by(user: User) -> QuerySet[Course]:
    if user.is_platform_admin:
        return Course.objects.all()
    return Course.objects.filter(enrollments__user=user, enrollments__role__in=STAFF_ROLES).distinct()


def courses_taken_by(user: User) -> QuerySet[Course]:
    return Course.objects.filter(enrollments__user=user, enrollments__role=CourseRole.LEARNER, archived=False)


def course_learners(course: Course) -> QuerySet[User]:
    return User.objects.filter(enrollments__course=course, enrollments__role=CourseRole.LEARNER).order_by("username")


@dataclass
class GradeCell:
    percent: float | None
    attempts: int
    overridden: bool = False
    status: str = ""
    score: str = ""  # labs: best points/max


@dataclass
class GradebookRow:
    learner: User
    cells: list[GradeCell]
    domains: dict[str, float] = field(default_factory=dict)  # domain code → percent over the learner's exams


@dataclass
class Gradebook:
    assignments: list[Assignment]
    rows: list[GradebookRow]
    domain_names: dict[str, str]


def due_dates(assignment: Assignment, learner_ids: list[int]) -> dict[int, Any]:
    """Each learner's due date for the assignment: the extended one where an accommodation sets a later date
    ({} when the assignment has no due date). One query."""
    if assignment.due_at is None:
        return {}
    extended = dict(
        Accommodation.objects.filter(
            course_id=assignment.course_id, user_id__in=learner_ids, extended_due_at__gt=assignment.due_at
        ).values_list("user_id", "extended_due_at")
    )
    return {pk: extended.get(pk, assignment.due_at) for pk in learner_ids}


def assignment_lab_scores(
    assignment: Assignment, learner_ids: list[int], until: dict[int, Any] | None = None
) -> dict[tuple[int, str], LabScore]:
    """A lab assignment's scores: attempts started in its window (each learner's due date with their extension),
    runs graded by that due date, the first ``attempts_allowed`` attempts. Three queries."""
    return lab_scores(
        learner_ids=learner_ids,
        slugs=[assignment.lab_slug],
        since=assignment.opens_at,
        until=due_dates(assignment, learner_ids) if until is None else until,
        first=assignment.attempts_allowed,
    )


@dataclass(frozen=True)
class LabAssignmentStanding:
    """What a learner sees of a lab assigned to them on the lab's page: where, until when, and what counts."""

    assignment: Assignment
    due: Any  # their due date, extended or not (None: no due date)
    score: LabScore


def lab_assignments_of(user: User, slug: str) -> list[LabAssignmentStanding]:
    """The published assignments of this lab in the learner's courses, with their own due date and standing."""
    assignments = Assignment.objects.filter(
        kind=AssignmentKind.LAB, lab_slug=slug, published=True, course__in=courses_taken_by(user)
    ).select_related("course")
    out = []
    for assignment in assignments:
        until = due_dates(assignment, [user.pk])
        score = assignment_lab_scores(assignment, [user.pk], until).get((user.pk, slug), LabScore())
        out.append(LabAssignmentStanding(assignment, until.get(user.pk), score))
    return out


def gradebook(course: Course) -> Gradebook:
    """Learners × assignments: best exam percent, practice percent, or the latest override. A fixed number of
    queries whatever the size of the course."""
    assignments = list(course.assignments.order_by("due_at", "created"))
    learners = list(course_learners(course))
    best: dict[tuple[int, int], GradeCell] = {}
    domain_sum: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    names: dict[str, str] = {}
    for attempt in ExamAttempt.objects.filter(assignment__course=course).exclude(status=AttemptStatus.ACTIVE):
        assert attempt.assignment_id is not None
        cell = best.setdefault((attempt.learner_id, attempt.assignment_id), GradeCell(None, 0))
        cell.attempts += 1
        if attempt.percent is not None and (cell.percent is None or attempt.percent > cell.percent):
            cell.percent = attempt.percent
        for d in attempt.domain_results:
            acc = domain_sum[attempt.learner_id][d["code"]]
            acc[0] += d["right"]
            acc[1] += d["total"]
            names[d["code"]] = d["name"]
    active = set(
        ExamAttempt.objects.filter(assignment__course=course, status=AttemptStatus.ACTIVE).values_list(
            "learner_id", "assignment_id"
        )
    )
    sessions = PracticeSession.objects.filter(assignment__course=course)
    right: dict[int, tuple[int, int]] = {}
    for session_id, correct in Response.objects.filter(session__in=sessions).values_list("session_id", "correct"):
        r, n = right.get(session_id, (0, 0))
        right[session_id] = (r + int(correct), n + 1)
    for s in sessions.values("id", "learner_id", "assignment_id", "queue"):
        r, n = right.get(s["id"], (0, 0))
        cell = best.setdefault((s["learner_id"], s["assignment_id"]), GradeCell(None, 0))
        cell.attempts += 1
        if n == len(s["queue"]) and n:  # a practice set counts once it is complete
            pct = round(100 * r / n, 1)
            cell.percent = pct if cell.percent is None else max(cell.percent, pct)
    labs: dict[int, dict[tuple[int, str], LabScore]] = {
        a.pk: assignment_lab_scores(a, [u.pk for u in learners]) for a in assignments if a.kind == AssignmentKind.LAB
    }
    overrides: dict[tuple[int, int], GradeOverride] = {}
    for override in GradeOverride.objects.filter(assignment__course=course).order_by("created"):
        overrides[(override.learner_id, override.assignment_id)] = override  # newest wins
    rows = []
    for learner in learners:
        cells = []
        for a in assignments:
            cell = best.get((learner.pk, a.pk), GradeCell(None, 0))
            cell = GradeCell(cell.percent, cell.attempts, status="in progress" if (learner.pk, a.pk) in active else "")
            if a.pk in labs:
                lab = labs[a.pk].get((learner.pk, a.lab_slug), LabScore())
                cell = GradeCell(lab.percent, lab.attempts, status="in progress" if lab.open else "", score=lab.label)
            o = overrides.get((learner.pk, a.pk))
            if o is not None and o.percent is not None:
                cell.percent, cell.overridden = o.percent, True
            cells.append(cell)
        domains = {c: round(100 * v[0] / v[1], 1) for c, v in domain_sum[learner.pk].items() if v[1]}
        rows.append(GradebookRow(learner, cells, domains))
    return Gradebook(assignments, rows, dict(sorted(names.items())))


def gradebook_csv(course: Course) -> str:
    book = gradebook(course)
    out = io.StringIO()
    writer = csv.writer(out)
    labs = [n for n, a in enumerate(book.assignments) if a.kind == AssignmentKind.LAB]
    writer.writerow(
        [
            "username",
            "email",
            *[a.title for a in book.assignments],
            *[f"{book.assignments[n].title} (points)" for n in labs],
            *book.domain_names.values(),
        ]
    )
    for row in book.rows:
        writer.writerow(
            [
                row.learner.username,
                row.learner.email,
                *["" if c.percent is None else f"{c.percent:g}" for c in row.cells],
                *[row.cells[n].score for n in labs],
                *[row.domains.get(code, "") for code in book.domain_names],
            ]
        )
    return out.getvalue()


@dataclass
class ItemAnalysis:
    assignment: Assignment | None
    attempts: int
    items: list[tuple[Item, ItemStats]]
    form: FormStats | None
    note: str


def item_analysis(*, course: Course, assignment: Assignment) -> ItemAnalysis:
    """Statistics for every item shown in the assignment's submitted attempts. Reliability (KR-20/α, SEM) needs
    every examinee to answer the same items: it is computed for fixed forms, and for blueprint forms only when
    the attempts happen to share all items."""
    attempts = list(
        ExamAttempt.objects.filter(assignment=assignment).exclude(status=AttemptStatus.ACTIVE).order_by("pk")
    )
    slots = AttemptItem.objects.filter(attempt__in=attempts, pilot=False).select_related("version", "item")
    per_attempt: dict[int, dict[int, Answer]] = defaultdict(dict)
    keys: dict[int, ItemKey] = {}
    items: dict[int, Item] = {}
    for slot in slots:
        response = slot.response or {}
        per_attempt[slot.attempt_id][slot.item_id] = Answer(float(slot.score or 0.0), response.get("choice"))
        if slot.item_id not in keys:
            opts = slot.version.options if slot.item.type in (ItemType.SINGLE, ItemType.TRUEFALSE) else []
            keys[slot.item_id] = ItemKey(
                slot.item_id, [o["key"] for o in opts], [o["key"] for o in opts if o["correct"]]
            )
            items[slot.item_id] = slot.item
    examinees = [per_attempt[a.pk] for a in attempts if a.pk in per_attempt]
    item_ids = sorted(keys)
    same_items = bool(examinees) and all(set(e) == set(item_ids) for e in examinees)
    totals = None if same_items else [a.percent or 0.0 for a in attempts if a.pk in per_attempt]
    stats = analyse_items(examinees, [keys[i] for i in item_ids], totals=totals)
    form = analyse_form([[e[i].score for i in item_ids] for e in examinees]) if same_items else None
    note = (
        "All attempts answered the same items: reliability is computed."
        if same_items
        else "Forms were assembled per learner: item statistics use each attempt's percent score as the total; "
        "reliability needs a fixed form."
    )
    note += f" Items answered by fewer than {FLAG_MIN_RESPONSES} examinees are not flagged."
    return ItemAnalysis(assignment, len(examinees), [(items[s.item_id], s) for s in stats], form, note)


@dataclass
class CohortReadiness:
    domains: list[dict[str, Any]]  # code, name, mean, low_count, histogram (5 bins)
    at_risk: list[tuple[User, list[str]]]
    labs_not_done: list[tuple[User, list[str]]]


def cohort_readiness(course: Course) -> CohortReadiness:
    """Distribution of domain mastery across the course's learners, and who is at risk (mastery under 60% in
    a domain with some evidence, or no practice at all)."""
    learners = list(course_learners(course))
    by_domain: dict[str, dict[str, Any]] = {}
    at_risk = []
    for learner in learners:
        weak = []
        mastery = mastery_by_domain(learner, course.track)
        for m in mastery:
            entry = by_domain.setdefault(m.code, {"code": m.code, "name": m.name, "values": []})
            if m.answered:
                entry["values"].append(m.mean)
                if m.high < 0.6:
                    weak.append(m.name)
        if not any(m.answered for m in mastery):
            weak.append("no practice yet")
        if weak:
            at_risk.append((learner, weak))
    domains = []
    for entry in by_domain.values():
        values = entry.pop("values")
        hist = [0] * 5
        for v in values:
            hist[min(4, int(v * 5))] += 1
        domains.append({**entry, "learners": len(values), "mean": sum(values) / len(values) if values else None,
                        "histogram": hist})  # fmt: skip
    lab_assignments = list(course.assignments.filter(kind=AssignmentKind.LAB, published=True))
    scores = {a.pk: assignment_lab_scores(a, [u.pk for u in learners]) for a in lab_assignments}
    labs_not_done = []
    for learner in learners:  # done = full marks reached in a graded attempt
        missing = [
            a.title for a in lab_assignments if not scores[a.pk].get((learner.pk, a.lab_slug), LabScore()).passed
        ]
        if missing:
            labs_not_done.append((learner, missing))
    return CohortReadiness(domains, at_risk, labs_not_done)


def can_teach(user: User, course: Course) -> bool:
    return (
        user.is_platform_admin
        or Enrollment.objects.filter(
            Q(role=CourseRole.INSTRUCTOR) | Q(role=CourseRole.ASSISTANT), course=course, user=user
        ).exists()
    )

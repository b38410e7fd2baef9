"""The quick start's demo course: what an instructor evaluating the platform needs to see it working — a course
with the demo learner and a cohort of synthetic learners who have sat its mock exam, so the gradebook, the
domain heat map, item analysis and cohort readiness have something to show."""

from __future__ import annotations

import math
import random
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from trainer.accounts.models import ExamTrack, Role, User
from trainer.bank.models import Blueprint, Track
from trainer.bank.scoring import key_response, wrong_response
from trainer.courses.models import Assignment, AssignmentKind, Course
from trainer.courses.services import assignment_create, assignment_start, course_create, course_enroll
from trainer.exams.models import AttemptItem, ExamAttempt
from trainer.exams.services import exam_form_publish, exam_save_answer, exam_submit

DEMO_COURSE = "demo-ciip"
COHORT = 12


def demo_course_load() -> str:
    """Create the demo course once (run again, it is left as it is): taught by the demo instructor, the demo
    learner enrolled with nothing done yet, and COHORT synthetic learners who each sat the mock exam once."""
    if Course.objects.filter(code=DEMO_COURSE).exists():
        return f"demo course {DEMO_COURSE}: kept"
    instructor = User.objects.get(username="instructor")
    track = Track.objects.get(code="CIIP")
    course = course_create(
        by=instructor, title="CIIP study group (demo)", code=DEMO_COURSE, track=track,
        description="A demo course: synthetic learners have sat the mock exam so that every report has data.",
    )  # fmt: skip
    course_enroll(course=course, user=User.objects.get(username="learner"))
    due = timezone.now() + timedelta(days=14)
    # A fixed form: everyone sits the same items, so item analysis has twelve answers per item and reliability.
    form = exam_form_publish(blueprint=Blueprint.objects.get(code="ciip-half"), by=instructor, seed=2026,
                             name="CIIP half length, demo form")  # fmt: skip
    exam = assignment_create(
        course=course, title="Mock exam (half length)", kind=AssignmentKind.EXAM, exam_form=form, due_at=due,
        attempts_allowed=2, published=True,
    )  # fmt: skip
    assignment_create(course=course, title="Warm-up practice set", kind=AssignmentKind.PRACTICE, practice_count=20,
                      due_at=due, published=True)  # fmt: skip
    assignment_create(course=course, title="Lab: verify connectivity with C-ECHO", kind=AssignmentKind.LAB,
                      lab_slug="verify-connectivity-echo", due_at=due, published=True)  # fmt: skip
    rng = random.Random(2026)  # noqa: S311 - a reproducible synthetic cohort, not security
    for n in range(1, COHORT + 1):
        learner = User.objects.create(
            username=f"demo-learner-{n:02d}", display_name=f"Demo learner {n}", role=Role.LEARNER,
            exam_track=ExamTrack.CIIP, email=f"demo-learner-{n:02d}@demo.invalid", password=make_password(None),
        )  # fmt: skip
        course_enroll(course=course, user=learner)
        _sit(exam, learner, ability=rng.gauss(0.6, 1.0), rng=rng)
    return f"demo course {DEMO_COURSE}: {COHORT} synthetic learners have sat its mock exam"


def _sit(assignment: Assignment, learner: User, *, ability: float, rng: random.Random) -> None:
    """Answer every question like a learner of this ability would (right with a logistic probability that falls
    with the item's difficulty), spending some time on each, then submit."""
    attempt = assignment_start(assignment=assignment, user=learner)
    assert isinstance(attempt, ExamAttempt)
    slots = AttemptItem.objects.filter(attempt=attempt).select_related("item", "version").order_by("position")
    hardness = {"easy": -1.0, "medium": 0.0, "hard": 1.0}
    for slot in slots:
        p = 1 / (1 + math.exp(-(ability - hardness.get(slot.item.difficulty, 0.0))))
        item_type = slot.item.type
        raw = key_response(slot.version, item_type) if rng.random() < p else wrong_response(
            slot.version, item_type, pick=rng.randrange(3))  # fmt: skip
        exam_save_answer(attempt=attempt, position=slot.position, raw=raw, flagged=rng.random() < 0.05,
                         time_spent_ms=rng.randint(20_000, 90_000))  # fmt: skip
    exam_submit(attempt=attempt)

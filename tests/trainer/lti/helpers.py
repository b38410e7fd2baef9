from __future__ import annotations

from django.test import Client

from tests.trainer.lti.conftest import linked_course, make_exam
from tests.trainer.lti.fake_platform import INSTRUCTOR, LEARNER, FakePlatform
from trainer.accounts.models import User
from trainer.courses.models import Assignment
from trainer.courses.services import assignment_start
from trainer.exams.models import ExamAttempt
from trainer.exams.services import exam_save_answer


def placed_exam(lms: FakePlatform, registration, blueprint) -> tuple[Assignment, User]:
    """An instructor's launch creates the course; an exam is placed on resource link RL1 with a line item; a
    learner launches it."""
    lms.launch(Client(), registration, sub="prof", roles=[INSTRUCTOR], resource_link_id="setup")
    exam = make_exam(linked_course(), blueprint)
    response = lms.launch(
        Client(), registration, sub="stud-1", roles=[LEARNER], custom={"pacs_trainer_assignment": str(exam.pk)},
        lineitem=lms.lineitem_url(1),
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:400]
    return exam, User.objects.get(lti_identities__sub="stud-1")


def answered_attempt(exam: Assignment, learner: User, right: int) -> ExamAttempt:
    """Start the exam and answer the first ``right`` scored items correctly, the rest wrongly."""
    attempt = assignment_start(assignment=exam, user=learner)
    assert isinstance(attempt, ExamAttempt)
    n = 0
    for slot in attempt.attempt_items.order_by("position"):
        choice = "b" if (slot.pilot or n < right) else "a"
        if not slot.pilot:
            n += 1
        exam_save_answer(attempt=attempt, position=slot.position, raw={"choice": choice})
    return attempt

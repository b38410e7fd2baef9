"""Assignment and Grade Services: a submitted exam attempt (or a grade override) bound to a line item posts
the learner's grade with an OAuth2 client-credentials token; transient errors are retried by Celery with backoff
until the platform accepts; a permanent error or the last retry leaves a clear failed status."""

from __future__ import annotations

import pytest
from django.db import transaction

from tests.trainer.lti.helpers import answered_attempt, placed_exam
from trainer.courses.services import grade_override_set
from trainer.exams.services import exam_submit
from trainer.lti.models import PassbackStatus, ScorePassback
from trainer.lti.services import passback_backoff
from trainer.lti.tasks import score_passback

pytestmark = pytest.mark.django_db


def submit_and_capture(attempt, django_capture_on_commit_callbacks) -> ScorePassback:
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        exam_submit(attempt=attempt)
    assert len(callbacks) == 1  # queued once, after commit
    return ScorePassback.objects.get(attempt=attempt)


def test_a_503_then_200_is_retried_and_exactly_one_score_is_accepted(
    lms, registration, small_blueprint, django_capture_on_commit_callbacks
):
    exam, learner = placed_exam(lms, registration, small_blueprint)
    attempt = answered_attempt(exam, learner, right=4)  # 4 of 5 scored items
    passback = submit_and_capture(attempt, django_capture_on_commit_callbacks)
    lms.score_replies = [503]
    result = score_passback.apply(args=(passback.pk,))
    assert result.get() == PassbackStatus.ACCEPTED
    passback.refresh_from_db()
    assert (passback.status, passback.tries, passback.score_given, passback.score_maximum) == (
        "accepted",
        2,
        40.0,
        50.0,
    )
    assert len(lms.scores) == 2 and len(lms.accepted_scores) == 1
    score = lms.accepted_scores[0]
    assert score["_url"] == lms.lineitem_url(1) + "/scores"
    assert score["userId"] == "stud-1"
    assert (score["scoreGiven"], score["scoreMaximum"]) == (40.0, 50.0)
    assert (score["activityProgress"], score["gradingProgress"]) == ("Completed", "FullyGraded")
    assert score["timestamp"].endswith("+00:00")
    # the token came from a client-credentials grant with a JWT assertion the platform verified with our JWKS
    token_request = lms.token_requests[0]
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in token_request["scope"].split()
    assert token_request["claims"]["aud"] == lms.token_url
    # a re-delivery of the same message changes nothing
    assert score_passback.apply(args=(passback.pk,)).get() == PassbackStatus.ACCEPTED
    assert len(lms.accepted_scores) == 1


def test_a_submit_twice_queues_one_passback(lms, registration, small_blueprint, django_capture_on_commit_callbacks):
    exam, learner = placed_exam(lms, registration, small_blueprint)
    attempt = answered_attempt(exam, learner, right=5)
    submit_and_capture(attempt, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        exam_submit(attempt=attempt)
    assert callbacks == [] and ScorePassback.objects.count() == 1


def test_the_last_retry_leaves_a_failed_status(lms, registration, small_blueprint, settings,
                                               django_capture_on_commit_callbacks):  # fmt: skip
    settings.LTI_PASSBACK_MAX_RETRIES = 2
    exam, learner = placed_exam(lms, registration, small_blueprint)
    passback = submit_and_capture(answered_attempt(exam, learner, right=1), django_capture_on_commit_callbacks)
    lms.score_replies = [503, 429, 502, 503]
    assert score_passback.apply(args=(passback.pk,)).get() == PassbackStatus.FAILED
    passback.refresh_from_db()
    assert passback.status == "failed" and passback.tries == 3
    assert "Gave up after 3 tries" in passback.last_error and "502" in passback.last_error
    assert lms.accepted_scores == []


def test_a_permanent_refusal_is_not_retried(lms, registration, small_blueprint, django_capture_on_commit_callbacks):
    exam, learner = placed_exam(lms, registration, small_blueprint)
    passback = submit_and_capture(answered_attempt(exam, learner, right=1), django_capture_on_commit_callbacks)
    lms.score_replies = [400]
    assert score_passback.apply(args=(passback.pk,)).get() == PassbackStatus.FAILED
    passback.refresh_from_db()
    assert passback.tries == 1 and "HTTP 400" in passback.last_error


def test_a_grade_override_sends_the_overridden_grade(lms, registration, small_blueprint, instructor,
                                                     django_capture_on_commit_callbacks):  # fmt: skip
    exam, learner = placed_exam(lms, registration, small_blueprint)
    submit_and_capture(answered_attempt(exam, learner, right=1), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        override = grade_override_set(assignment=exam, learner=learner, percent=90, reason="regrade", by=instructor)
    assert len(callbacks) == 1
    passback = ScorePassback.objects.get(override=override)
    assert score_passback.apply(args=(passback.pk,)).get() == PassbackStatus.ACCEPTED
    assert lms.accepted_scores[-1]["scoreGiven"] == 45.0


def test_backoff_grows_is_capped_and_honours_retry_after(settings):
    settings.LTI_PASSBACK_RETRY_BASE_SECONDS = 30
    settings.LTI_PASSBACK_RETRY_MAX_SECONDS = 600
    assert [passback_backoff(retries=n) for n in range(6)] == [30, 60, 120, 240, 480, 600]
    assert passback_backoff(retries=0, retry_after=90) == 90


def test_a_learner_outside_the_lms_course_gets_no_passback(lms, registration, small_blueprint, other_learner,
                                                           django_capture_on_commit_callbacks):  # fmt: skip
    from trainer.courses.models import Enrollment

    exam, _ = placed_exam(lms, registration, small_blueprint)
    Enrollment.objects.create(course=exam.course, user=other_learner)
    attempt = answered_attempt(exam, other_learner, right=1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        exam_submit(attempt=attempt)
    assert callbacks == [] and not ScorePassback.objects.exists()


def test_a_graded_lab_run_passes_back_the_best_lab_score(
    lms, registration, learner, monkeypatch, django_capture_on_commit_callbacks
):
    from django.test import Client

    from labs.grading import services as lab_services
    from labs.grading import tasks as lab_tasks
    from labs.grading.models import CheckResult
    from tests.trainer.lti.conftest import linked_course
    from tests.trainer.lti.fake_platform import INSTRUCTOR, LEARNER
    from trainer.accounts.models import User
    from trainer.courses.models import Assignment, AssignmentKind

    lms.launch(Client(), registration, sub="prof", roles=[INSTRUCTOR], resource_link_id="setup")
    lab = Assignment.objects.create(
        course=linked_course(), title="Echo lab", kind=AssignmentKind.LAB, lab_slug="verify-connectivity-echo",
        points=30,
    )  # fmt: skip
    lms.launch(
        Client(), registration, sub="stud-1", roles=[LEARNER], custom={"pacs_trainer_assignment": str(lab.pk)},
        lineitem=lms.lineitem_url(1),
    )  # fmt: skip
    student = User.objects.get(lti_identities__sub="stud-1")
    monkeypatch.setattr(lab_tasks.grade, "delay", lambda run_id: None)
    attempt = lab_services.lab_start(learner=student, slug="verify-connectivity-echo")
    run = lab_services.grading_run_request(attempt=attempt)
    CheckResult.objects.create(run=run, order=1, name="association_seen", passed=True, points=1, evidence="seen")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lab_services.grading_run_execute(run_id=run.pk)  # 1 of 3 points: the echo itself is missing
    assert len(callbacks) == 1
    passback = ScorePassback.objects.get(lab_run=run)
    assert score_passback.apply(args=(passback.pk,)).get() == PassbackStatus.ACCEPTED
    score = lms.accepted_scores[-1]
    assert (score["scoreGiven"], score["scoreMaximum"], score["userId"]) == (10.0, 30.0, "stud-1")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lab_services.grading_run_execute(run_id=run.pk)  # a re-delivered grading message sends nothing new
    assert callbacks == [] and ScorePassback.objects.filter(lab_run=run).count() == 1
    # a learner without an LMS membership (another course, no line item for them) gets no passback
    other_attempt = lab_services.lab_start(learner=learner, slug="verify-connectivity-echo")
    other_run = lab_services.grading_run_request(attempt=other_attempt)
    lab_services.grading_run_execute(run_id=other_run.pk)
    assert not ScorePassback.objects.filter(lab_run=other_run).exists()

"""Score passback through the real thing: the exam submit commits, the task goes through Redis to a separate
Celery worker process, which posts to the simulated platform (served on a loopback port, since the worker is
another process): the first post gets 503, Celery retries with backoff, the second is accepted."""

from __future__ import annotations

import time

import pytest
from django.db import connections

from tests.trainer.lti.fake_platform import FakePlatform
from tests.trainer.lti.helpers import answered_attempt, placed_exam
from trainer.exams.services import exam_submit
from trainer.lti.models import PassbackStatus, ScorePassback
from trainer.lti.selectors import tool_jwks

pytestmark = pytest.mark.integration


@pytest.fixture
def fast_retries(monkeypatch):
    """Backoff of a fraction of a second for the worker about to start (it reads the environment)."""
    monkeypatch.setenv("LTI_PASSBACK_RETRY_BASE_SECONDS", "0.2")


def jwks_from_another_thread() -> dict:
    try:
        return tool_jwks()
    finally:
        connections.close_all()


def test_a_worker_retries_a_503_until_the_platform_accepts_the_score(fast_retries, celery_worker, bank,
                                                                     small_blueprint):  # fmt: skip
    lms = FakePlatform(tool_jwks=jwks_from_another_thread)
    with lms.serve() as base:
        lms.base = base
        registration = lms.register()
        exam, learner = placed_exam(lms, registration, small_blueprint)
        attempt = answered_attempt(exam, learner, right=3)
        lms.score_replies = [503]
        exam_submit(attempt=attempt)  # autocommit: on_commit fires now and the task goes to the broker
        passback = ScorePassback.objects.get(attempt=attempt)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            passback.refresh_from_db()
            if passback.status in (PassbackStatus.ACCEPTED, PassbackStatus.FAILED):
                break
            time.sleep(0.2)
    assert passback.status == PassbackStatus.ACCEPTED, (passback.status, passback.last_error)
    assert passback.tries == 2
    assert [s.get("scoreGiven") for s in lms.scores] == [30.0, 30.0]
    assert len(lms.accepted_scores) == 1
    assert lms.accepted_scores[0]["userId"] == "stud-1"

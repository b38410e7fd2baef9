"""Grading runs: through the real Redis and a real worker, idempotent on re-delivery, swept when stuck, failed
clearly past the delivery limit, and private to their learner."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from labs.grading import services
from labs.grading.models import CheckResult, GradingRun, LabAttempt, RunStatus
from labs.grading.tasks import GradeTask
from labs.nodes.services import node_create
from labs.scenarios.loader import lab_catalogue
from tests.conftest import signed_in
from tests.labs.fixtures import wait_for
from tests.labs.grading.helpers import play, start_lab

ECHO = "verify-connectivity-echo"


@pytest.mark.integration
def test_check_my_work_grades_through_redis_and_a_real_worker(learner, nodehost, celery_worker, tmp_path):
    lab = lab_catalogue()[ECHO]
    attempt = start_lab(learner, ECHO)
    assert lab.reference_solution
    play(lab.reference_solution, lab=lab, attempt=attempt, workdir=tmp_path, nodehost=nodehost)
    client = signed_in(learner)
    response = client.post(f"/labs/attempts/{attempt.pk}/check/")
    assert response.status_code == 302
    run = GradingRun.objects.get(attempt=attempt)
    assert response["Location"] == f"/labs/runs/{run.pk}/"

    def finished() -> GradingRun | None:
        run.refresh_from_db()
        return run if run.status in (RunStatus.DONE, RunStatus.FAILED) else None

    wait_for(finished, timeout=60, what="the worker to grade the run")
    assert (run.status, run.score, run.max_score) == (RunStatus.DONE, 3, 3)
    page = client.get(f"/labs/runs/{run.pk}/", headers={"HX-Request": "true"})
    text = page.content.decode()
    assert "hx-trigger" not in text  # finished: the fragment stops polling
    assert "0x0000 Success (PS3.7 §9.1.5)" in text
    for task in lab.tasks:  # each result is labelled with its task, not only the check's kind
        assert f"<strong>{task.title}</strong>" in text


@pytest.mark.integration
def test_two_learners_grading_at_once_never_see_each_others_evidence(learner, other_learner, nodehost, tmp_path):
    attempts = {}
    for user in (learner, other_learner):
        attempts[user.pk] = start_lab(user, ECHO)
    lab = lab_catalogue()[ECHO]
    assert lab.reference_solution
    play(lab.reference_solution, lab=lab, attempt=attempts[learner.pk], workdir=tmp_path, nodehost=nodehost)
    runs = {pk: services.grading_run_request(attempt=a) for pk, a in attempts.items()}
    for run in runs.values():
        services.grading_run_execute(run_id=run.pk)
    mine, theirs = runs[learner.pk], runs[other_learner.pk]
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.score == 3 and theirs.score == 0  # the echo to lena's node is not evidence for otto's
    lena, otto = signed_in(learner), signed_in(other_learner)
    assert lena.get(f"/labs/runs/{mine.pk}/").status_code == 200
    assert lena.get(f"/labs/runs/{theirs.pk}/").status_code == 404
    assert otto.get(f"/labs/runs/{mine.pk}/").status_code == 404
    assert otto.post(f"/labs/attempts/{attempts[learner.pk].pk}/check/").status_code == 404
    assert "LEARNER_SCU" not in otto.get(f"/labs/{ECHO}/").content.decode().split("Your runs")[-1]


@pytest.fixture
def queued_run(learner, db, monkeypatch):
    from labs.grading import tasks

    monkeypatch.setattr(tasks.grade, "delay", lambda run_id: None)
    node = node_create(owner=learner, start=False, ae_title="ECHO_PACS")
    attempt = LabAttempt.objects.create(learner=learner, lab_slug=ECHO, node=node)
    return services.grading_run_request(attempt=attempt)


def test_a_redelivered_run_is_not_graded_twice(queued_run):
    services.grading_run_execute(run_id=queued_run.pk)
    first = list(CheckResult.objects.filter(run=queued_run).values_list("pk", "evidence"))
    assert services.grading_run_execute(run_id=queued_run.pk) == "already finished"
    assert list(CheckResult.objects.filter(run=queued_run).values_list("pk", "evidence")) == first


def test_a_run_interrupted_mid_way_resumes_without_duplicating_results(queued_run):
    GradingRun.objects.filter(pk=queued_run.pk).update(status=RunStatus.RUNNING, started=timezone.now())
    CheckResult.objects.create(run=queued_run, order=1, name="association_seen", passed=True, points=1, evidence="x")
    services.grading_run_execute(run_id=queued_run.pk)
    results = list(CheckResult.objects.filter(run=queued_run))
    assert [r.order for r in results] == [1, 2]
    assert results[0].evidence == "x"  # kept, not re-graded
    queued_run.refresh_from_db()
    assert queued_run.status == RunStatus.DONE and queued_run.score == 1


def test_the_sweeper_re_enqueues_stuck_runs_then_fails_them(
    queued_run, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from labs.grading import tasks

    sent: list[int] = []
    monkeypatch.setattr(tasks.grade, "delay", sent.append)
    later = timezone.now() + timedelta(seconds=settings.LABS_GRADING_STUCK_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.grading_sweep_stuck(now=timezone.now()) == []  # not stuck yet
        assert services.grading_sweep_stuck(now=later) == [queued_run.pk]
    assert sent == [queued_run.pk]
    GradingRun.objects.filter(pk=queued_run.pk).update(enqueues=services.MAX_ENQUEUES)
    assert services.grading_sweep_stuck(now=later) == []
    queued_run.refresh_from_db()
    assert queued_run.status == RunStatus.FAILED and "did not finish" in queued_run.error


def test_past_the_delivery_limit_the_run_is_marked_failed(queued_run):
    GradeTask().on_delivery_limit(queued_run.pk)
    queued_run.refresh_from_db()
    assert queued_run.status == RunStatus.FAILED
    assert "kept dying" in queued_run.error

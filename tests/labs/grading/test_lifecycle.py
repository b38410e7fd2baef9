"""A lab attempt's life: resume, time limit (polite timer, checks refused after it, closed by the sweeper, nodes
stopped), reset to the lab's starting state, finish and cleanup."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from labs.grading import services
from labs.grading.models import AttemptStatus, CheckResult, GradingRun, LabAttempt, RunStatus
from labs.grading.selectors import attempt_nodes
from labs.grading.tasks import sweep_attempts
from labs.nodes.models import Node, StoredInstance
from labs.scenarios.loader import lab_catalogue
from tests.conftest import signed_in
from tests.labs.fixtures import dcmtk, echo_ok, wait_for, wait_running
from tests.labs.grading.helpers import grade_now, play, start_lab

ECHO = "verify-connectivity-echo"
STORE = "store-a-study"


@pytest.fixture
def no_grading(monkeypatch):
    from labs.grading import tasks

    monkeypatch.setattr(tasks.grade, "delay", lambda run_id: None)


def _overdue(attempt: LabAttempt) -> None:
    LabAttempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    attempt.refresh_from_db()


def test_starting_twice_resumes_the_same_attempt_with_the_labs_time_limit(learner):
    before = timezone.now()
    first = services.lab_start(learner=learner, slug=ECHO)
    again = services.lab_start(learner=learner, slug=ECHO)
    assert again.pk == first.pk and again.node_id == first.node_id
    limit = lab_catalogue()[ECHO].time_limit_minutes
    assert first.deadline is not None
    assert before + timedelta(minutes=limit) <= first.deadline <= timezone.now() + timedelta(minutes=limit)
    assert first.max_score == lab_catalogue()[ECHO].total_points
    assert attempt_nodes(first) == [first.node]


def test_an_extra_time_accommodation_in_a_course_assigning_the_lab_lengthens_the_deadline(learner, instructor):
    from trainer.bank.models import Track
    from trainer.bank.services import tracks_load
    from trainer.courses.models import Assignment, AssignmentKind, CourseRole, Enrollment
    from trainer.courses.services import accommodation_set, course_create

    tracks_load()
    course = course_create(by=instructor, title="PACS 101", code="pacs-101", track=Track.objects.get(code="CDIP"))
    Enrollment.objects.create(course=course, user=learner, role=CourseRole.LEARNER)
    Assignment.objects.create(course=course, title="Echo", kind=AssignmentKind.LAB, lab_slug=ECHO)
    accommodation_set(course=course, user=learner, time_multiplier=1.5)
    before = timezone.now()
    attempt = services.lab_start(learner=learner, slug=ECHO)
    limit = lab_catalogue()[ECHO].time_limit_minutes
    assert attempt.deadline is not None and attempt.deadline >= before + timedelta(minutes=limit * 1.5)
    other = services.lab_start(learner=learner, slug=STORE)  # not assigned in that course: the lab's own time
    assert other.deadline is not None
    assert other.deadline <= timezone.now() + timedelta(minutes=lab_catalogue()[STORE].time_limit_minutes)


def test_the_lab_page_shows_the_polite_timer_reset_and_finish(learner):
    client = signed_in(learner)
    client.post(f"/labs/{ECHO}/start/")
    attempt = LabAttempt.objects.get(learner=learner)
    page = client.get(f"/labs/{ECHO}/").content.decode()
    assert 'id="exam-timer"' in page and "js/timer.js" in page and 'role="timer"' in page
    assert f'data-expired-url="/labs/{ECHO}/"' in page
    assert f"/labs/attempts/{attempt.pk}/reset/" in page and f"/labs/attempts/{attempt.pk}/finish/" in page


def test_after_the_time_limit_check_my_work_is_refused_and_the_attempt_closed(learner, no_grading):
    client = signed_in(learner)
    client.post(f"/labs/{ECHO}/start/")
    attempt = LabAttempt.objects.get(learner=learner)
    node_id = attempt.node_id
    _overdue(attempt)
    response = client.post(f"/labs/attempts/{attempt.pk}/check/", follow=True)
    page = response.content.decode()
    assert "Time is up" in page and "Start a new attempt" in page and 'id="exam-timer"' not in page
    assert not GradingRun.objects.filter(attempt=attempt).exists()
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.EXPIRED and attempt.ended is not None and attempt.deadline is not None
    assert attempt.ended <= attempt.deadline
    assert not Node.objects.filter(pk=node_id).exists()  # cleaned up: the host stops it and removes its files
    with pytest.raises(services.LabError, match="Time is up"):
        services.lab_attempt_reset(attempt=attempt)
    fresh = services.lab_start(learner=learner, slug=ECHO)  # starting again is a new attempt with a new clock
    assert fresh.pk != attempt.pk and fresh.is_open and fresh.deadline and fresh.deadline > timezone.now()


def test_the_sweeper_closes_expired_attempts_and_waits_for_a_running_check(learner, no_grading):
    attempt = services.lab_start(learner=learner, slug=ECHO)
    run = services.grading_run_request(attempt=attempt)  # asked for just before the deadline
    _overdue(attempt)
    assert sweep_attempts() == {"expired": 1, "nodes_deleted": 0}
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.EXPIRED and attempt.node_id is not None  # the check still needs it
    GradingRun.objects.filter(pk=run.pk).update(max_score=1)  # this run will reach "full marks"
    CheckResult.objects.create(run=run, order=1, name="association_seen", passed=True, points=1, evidence="seen")
    services.grading_run_execute(run_id=run.pk)
    assert LabAttempt.objects.get(pk=attempt.pk).status == AttemptStatus.EXPIRED  # a late run never reopens it
    assert sweep_attempts() == {"expired": 0, "nodes_deleted": 1}
    assert LabAttempt.objects.get(pk=attempt.pk).node_id is None
    run.refresh_from_db()
    assert (run.status, run.score) == (RunStatus.DONE, 1)  # the results stay readable
    assert LabAttempt.objects.get(pk=attempt.pk).best_score == 1


def test_finish_keeps_the_best_score_deletes_the_nodes_and_refuses_further_checks(learner, no_grading):
    client = signed_in(learner)
    client.post(f"/labs/{ECHO}/start/")
    attempt = LabAttempt.objects.get(learner=learner)
    LabAttempt.objects.filter(pk=attempt.pk).update(best_score=2)
    node_id = attempt.node_id
    page = client.post(f"/labs/attempts/{attempt.pk}/finish/", follow=True).content.decode()
    assert "Attempt finished with 2/3 points" in page and "Finished" in page
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.FINISHED and attempt.best_score == 2 and attempt.node_id is None
    assert not Node.objects.filter(pk=node_id).exists()
    with pytest.raises(services.LabError, match="finished"):
        services.grading_run_request(attempt=attempt)
    assert signed_in(learner).post(f"/labs/attempts/{attempt.pk}/finish/").status_code == 302  # idempotent


def test_reset_is_refused_while_a_check_runs(learner, no_grading):
    attempt = services.lab_start(learner=learner, slug=ECHO)
    services.grading_run_request(attempt=attempt)
    with pytest.raises(services.LabError, match="check is running"):
        services.lab_attempt_reset(attempt=attempt)


def test_another_learner_cannot_reset_or_finish_my_attempt(learner, other_learner):
    attempt = services.lab_start(learner=learner, slug=ECHO)
    other = signed_in(other_learner)
    assert other.post(f"/labs/attempts/{attempt.pk}/reset/").status_code == 404
    assert other.post(f"/labs/attempts/{attempt.pk}/finish/").status_code == 404
    attempt.refresh_from_db()
    assert attempt.is_open


@pytest.mark.integration
def test_reset_brings_the_node_back_to_the_labs_starting_state(learner, nodehost, tmp_path):
    lab = lab_catalogue()[STORE]
    attempt = start_lab(learner, STORE)
    node = attempt.node
    assert node is not None
    port, ae = node.port, node.ae_title

    def indexed(n: Node, count: int) -> bool:
        nodehost.flush()
        return StoredInstance.objects.filter(node=n).count() == count

    wait_for(lambda: indexed(node, 1), timeout=30, what="the preloaded prior indexed")
    assert lab.reference_solution
    play(lab.reference_solution, lab=lab, attempt=attempt, workdir=tmp_path, nodehost=nodehost)
    assert StoredInstance.objects.filter(node=node).count() == 5
    from labs.nodes.services import node_configure

    node_configure(node=node, ae_title="CHANGED_AE", reject_unknown_calling=True)

    services.lab_attempt_reset(attempt=attempt)
    fresh = attempt.node
    assert fresh is not None and fresh.pk != node.pk
    assert (fresh.port, fresh.ae_title, fresh.reject_unknown_calling) == (port, ae, False)
    wait_running(fresh)
    wait_for(lambda: indexed(fresh, 1), timeout=30, what="the prior back, alone")
    assert echo_ok(port, ae)  # the same address answers, with the lab's AE title
    run = grade_now(attempt)  # the study sent before the reset no longer counts; the prior is there
    results = {(r.name, r.max_points): r.passed for r in run.results.all()}
    assert results == {("association_seen", 1): False, ("study_stored", 3): False, ("study_stored", 1): True}
    play(lab.reference_solution, lab=lab, attempt=attempt, workdir=tmp_path, nodehost=nodehost)
    assert grade_now(attempt).score == lab.total_points


@pytest.mark.integration
def test_an_expired_attempts_node_stops_answering(learner, nodehost):
    attempt = start_lab(learner, ECHO)
    assert attempt.node is not None
    port, ae = attempt.node.port, attempt.node.ae_title
    assert echo_ok(port, ae)
    _overdue(attempt)
    sweep_attempts()
    wait_for(lambda: not echo_ok(port, ae), what="the node host to stop the expired attempt's node")
    result = dcmtk("echoscu", "-to", "5", "-aec", ae, "127.0.0.1", str(port))
    assert result.returncode != 0

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import signed_in
from tests.trainer.exams.conftest import make_blueprint
from tests.trainer.practice.conftest import RATIONALE_MARK
from trainer.exams.assembly import AssemblyError
from trainer.exams.models import AttemptItem, AttemptStatus, ExamAttempt
from trainer.exams.services import exam_save_answer, exam_start, exam_submit, exam_sweep_overdue

pytestmark = pytest.mark.django_db


def test_assembly_honours_domain_counts_exactly_and_adds_pilot_items(small_blueprint, learner):
    attempt = exam_start(learner=learner, blueprint=small_blueprint, seed=1)
    slots = list(attempt.attempt_items.select_related("domain"))
    scored = Counter(s.domain.code for s in slots if not s.pilot and s.domain is not None)
    assert scored == {"networking": 3, "dicomweb": 2}
    assert sum(s.pilot for s in slots) == 1
    assert len({s.item_id for s in slots}) == 6


def test_a_blueprint_the_bank_cannot_fill_is_refused_clearly(bank, learner):
    too_big = make_blueprint("t-big", {"networking": 9})
    with pytest.raises(AssemblyError, match="needs 9"):
        exam_start(learner=learner, blueprint=too_big)


def test_a_second_attempt_avoids_items_already_seen_while_unseen_remain(small_blueprint, learner):
    first = exam_start(learner=learner, blueprint=small_blueprint, seed=1)
    exam_submit(attempt=first)
    second = exam_start(learner=learner, blueprint=small_blueprint, seed=2)
    seen = set(first.attempt_items.values_list("item_id", flat=True))
    again = set(second.attempt_items.filter(pilot=False).values_list("item_id", flat=True))
    assert not seen & again


def test_one_active_attempt_per_exam_and_starting_again_resumes_it(small_blueprint, learner, learner_client: Client):
    url = reverse("exams:start", args=[small_blueprint.code])
    learner_client.post(url)
    learner_client.post(url)
    assert ExamAttempt.objects.filter(learner=learner, status=AttemptStatus.ACTIVE).count() == 1


def test_no_key_or_rationale_reaches_the_page_before_submission(small_blueprint, learner, learner_client: Client):
    attempt = exam_start(learner=learner, blueprint=small_blueprint, seed=1)
    for n in range(1, 7):
        body = learner_client.get(reverse("exams:question", args=[attempt.pk, n])).content.decode()
        assert RATIONALE_MARK not in body
    assert learner_client.get(reverse("exams:report", args=[attempt.pk])).status_code == 302
    learner_client.post(reverse("exams:submit", args=[attempt.pk]))
    report = learner_client.get(reverse("exams:report", args=[attempt.pk])).content.decode()
    assert RATIONALE_MARK in report


def test_every_click_is_saved_and_another_device_resumes_with_it(small_blueprint, learner, learner_client: Client):
    attempt = exam_start(learner=learner, blueprint=small_blueprint, seed=1)
    save = reverse("exams:save", args=[attempt.pk, 2])
    response = learner_client.post(save, {"choice": "b", "flagged": ["0", "1"]}, HTTP_HX_REQUEST="true")
    assert "Saved at" in response.content.decode()
    slot = AttemptItem.objects.get(attempt=attempt, position=2)
    assert slot.response == {"choice": "b"} and slot.flagged
    other_device = signed_in(learner)
    page = other_device.get(reverse("exams:question", args=[attempt.pk, 2])).content.decode()
    assert 'value="b" checked' in page
    assert "flagged" in page


def test_answers_after_the_deadline_are_refused_and_the_attempt_is_submitted(
    small_blueprint, learner, learner_client: Client
):
    attempt = exam_start(learner=learner, blueprint=small_blueprint, seed=1)
    exam_save_answer(attempt=attempt, position=1, raw={"choice": "b"})
    ExamAttempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    response = learner_client.post(reverse("exams:save", args=[attempt.pk, 2]), {"choice": "b"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert "over" in response.content.decode()
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.EXPIRED
    assert AttemptItem.objects.get(attempt=attempt, position=2).response is None
    assert AttemptItem.objects.get(attempt=attempt, position=1).response == {"choice": "b"}


def test_the_sweep_submits_attempts_abandoned_past_their_deadline(small_blueprint, learner):
    attempt = exam_start(learner=learner, blueprint=small_blueprint, seed=1)
    assert exam_sweep_overdue() == 0
    ExamAttempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    assert exam_sweep_overdue() == 1
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.EXPIRED and attempt.percent is not None


def test_scoring_ignores_pilot_items_and_reports_by_domain(small_blueprint, learner):
    attempt = exam_start(learner=learner, blueprint=small_blueprint, seed=1)
    for slot in attempt.attempt_items.all():
        exam_save_answer(attempt=attempt, position=slot.position, raw={"choice": "b"})  # b is every key here
    submitted = exam_submit(attempt=attempt)
    assert (submitted.scored_total, submitted.scored_right, submitted.percent) == (5, 5.0, 100.0)
    assert {d["code"]: d["total"] for d in submitted.domain_results} == {"networking": 3, "dicomweb": 2}
    again = exam_submit(attempt=submitted)  # idempotent
    assert again.submitted_at == submitted.submitted_at


def test_question_pages_cost_the_same_queries_whatever_the_exam_length(bank, learner, learner_client: Client):
    short = exam_start(learner=learner, blueprint=make_blueprint("t-q1", {"networking": 2}, pilot=0), seed=1)
    long = exam_start(
        learner=learner, blueprint=make_blueprint("t-q2", {"networking": 6, "dicomweb": 6}, pilot=2), seed=1
    )
    counts = []
    for attempt in (short, long):
        with CaptureQueriesContext(connection) as ctx:
            assert learner_client.get(reverse("exams:question", args=[attempt.pk, 1])).status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1]


def test_another_learner_cannot_see_or_answer_my_attempt(small_blueprint, learner, other_learner):
    attempt = exam_start(learner=learner, blueprint=small_blueprint, seed=1)
    intruder = signed_in(other_learner)
    assert intruder.get(reverse("exams:question", args=[attempt.pk, 1])).status_code == 404
    assert intruder.post(reverse("exams:save", args=[attempt.pk, 1]), {"choice": "a"}).status_code == 404
    assert intruder.get(reverse("exams:report", args=[attempt.pk])).status_code == 404


def test_a_published_fixed_form_gives_every_learner_the_same_items_in_order(
    small_blueprint, learner, other_learner, instructor_client: Client
):
    from trainer.exams.models import ExamForm

    response = instructor_client.post(reverse("exams:form-publish", args=[small_blueprint.code]))
    assert response.status_code == 302
    form = ExamForm.objects.get()
    assert form.form_items.filter(pilot=False).count() == 5 and form.form_items.filter(pilot=True).count() == 1
    orders = []
    for who in (learner, other_learner):
        client = signed_in(who)
        start = client.post(reverse("exams:form-start", args=[form.pk]))
        attempt = ExamAttempt.objects.get(learner=who, form=form)
        assert start["Location"] == reverse("exams:question", args=[attempt.pk, 1])
        orders.append(list(attempt.attempt_items.values_list("item_id", flat=True)))
    assert orders[0] == orders[1] == list(form.form_items.values_list("item_id", flat=True))


def test_a_second_fixed_form_avoids_the_first_ones_items_and_learners_cannot_publish(
    bank, instructor, learner_client: Client
):
    from trainer.exams.services import exam_form_publish

    blueprint = make_blueprint("t-forms", {"networking": 3, "dicomweb": 3}, pilot=0)
    first = exam_form_publish(blueprint=blueprint, by=instructor, seed=1)
    second = exam_form_publish(blueprint=blueprint, by=instructor, seed=2)
    a = set(first.form_items.values_list("item_id", flat=True))
    b = set(second.form_items.values_list("item_id", flat=True))
    assert not a & b
    assert learner_client.post(reverse("exams:form-publish", args=[blueprint.code])).status_code == 403


def test_the_exam_list_puts_the_learners_own_track_first(learner, db):
    from trainer.bank.models import Track
    from trainer.bank.services import tracks_load
    from trainer.exams.models import Blueprint
    from trainer.exams.selectors import exams_available

    tracks_load()
    for code, track in (("other-track", "CIIP"), ("own-track", "CDIP")):
        Blueprint.objects.create(
            code=code, track=Track.objects.get(code=track), name=code, scored_items=1, time_limit_minutes=5
        )
    learner.exam_track = "CDIP"
    learner.save(update_fields=["exam_track"])
    listed = list(exams_available(learner))
    assert [b.code for b in listed][:1] == ["own-track"] and {b.code for b in listed} >= {"own-track", "other-track"}
    page = signed_in(learner).get("/exams/").content.decode()
    assert page.index("own-track") < page.index("other-track") and "your track" in page

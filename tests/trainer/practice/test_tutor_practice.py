from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler

from tests.conftest import signed_in
from tests.trainer.practice.conftest import RATIONALE_MARK
from trainer.bank.models import Item, Track
from trainer.practice.models import Card, PracticeSession, Response, ReviewLog
from trainer.practice.selectors import mastery_by_domain
from trainer.practice.services import practice_advance, practice_answer, practice_session_start

pytestmark = pytest.mark.django_db


def start(client: Client, **data) -> PracticeSession:
    form = {"track": "CDIP", "mode": "smart", "count": 5, **data}
    response = client.post(reverse("practice:home"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    return PracticeSession.objects.latest("created")


def current_item(session: PracticeSession) -> Item:
    return Item.objects.get(pk=session.queue[session.position])


def test_the_key_and_rationales_are_not_sent_before_the_answer_is_recorded(bank, learner_client: Client):
    session = start(learner_client)
    page = learner_client.get(reverse("practice:session", args=[session.pk])).content.decode()
    assert "Question 1 of 5" in page
    assert RATIONALE_MARK not in page
    assert "correct" not in page.lower().replace("correctly", "")
    item = current_item(session)
    answered = learner_client.post(
        reverse("practice:answer", args=[session.pk]), {"item": item.pk, "choice": "a"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Not quite" in answered
    assert f"{RATIONALE_MARK} one is not two" in answered  # why the chosen distractor is wrong
    assert f"{RATIONALE_MARK} the key is two" in answered
    assert "DICOM PS3.7 Annex C" in answered


def test_a_double_submit_records_one_answer(bank, learner, learner_client: Client):
    session = start(learner_client)
    item = current_item(session)
    for choice in ("b", "a"):
        learner_client.post(reverse("practice:answer", args=[session.pk]), {"item": item.pk, "choice": choice})
    answers = Response.objects.filter(session=session)
    assert answers.count() == 1
    assert answers.get().correct is True  # the first answer stands


def test_an_invalid_answer_is_refused_with_a_message_and_nothing_saved(bank, learner_client: Client):
    session = start(learner_client)
    item = current_item(session)
    page = learner_client.post(reverse("practice:answer", args=[session.pk]), {"item": item.pk}).content.decode()
    assert "choose one of the options" in page
    assert not Response.objects.exists()


def test_moving_on_requires_an_answer_and_the_session_finishes(bank, learner):
    track = Track.objects.get(code="CDIP")
    session = practice_session_start(learner=learner, track=track, count=2, seed=1)
    with pytest.raises(ValueError, match="Answer this question"):
        practice_advance(session=session)
    for _ in range(2):
        practice_answer(session=session, item_id=session.queue[session.position], raw={"choice": "b"})
        session = practice_advance(session=session)
    assert session.finished and session.finished_at is not None


def test_fsrs_due_dates_move_as_the_library_says(bank, learner):
    track = Track.objects.get(code="CDIP")
    session = practice_session_start(learner=learner, track=track, count=1, seed=3)
    before = timezone.now()
    practice_answer(session=session, item_id=session.queue[0], raw={"choice": "b"}, confidence=3)
    card = Card.objects.get(learner=learner)
    expected, _ = Scheduler(enable_fuzzing=False).review_card(FsrsCard(), Rating.Easy, review_datetime=card.last_review)
    assert card.due == expected.due
    assert card.due - before > timedelta(days=1)  # "Easy" on a new card skips the learning steps
    assert ReviewLog.objects.get(card=card).rating == int(Rating.Easy)


def test_a_wrong_answer_is_due_again_within_minutes_and_shows_under_missed(bank, learner, learner_client: Client):
    track = Track.objects.get(code="CDIP")
    session = practice_session_start(learner=learner, track=track, count=1, seed=4)
    practice_answer(session=session, item_id=session.queue[0], raw={"choice": "c"})
    card = Card.objects.get(learner=learner)
    assert card.due - timezone.now() < timedelta(minutes=2)
    missed = practice_session_start(learner=learner, track=track, mode="missed", count=10)
    assert missed.queue == [session.queue[0]]


def test_smart_practice_targets_the_weak_domain(bank, learner):
    track = Track.objects.get(code="CDIP")
    web = Item.objects.filter(external_id__startswith="p-dicomweb").values_list("pk", flat=True)
    net = Item.objects.filter(external_id__startswith="p-networking").values_list("pk", flat=True)
    warmup = PracticeSession.objects.create(learner=learner, track=track, queue=[*web[:4], *net[:4]])
    for pk in warmup.queue:
        right = pk in net  # networking all right, DICOMweb all wrong
        practice_answer(session=warmup, item_id=pk, raw={"choice": "b" if right else "a"})
        warmup.position += 1
        warmup.save()
    mastery = {m.code: m for m in mastery_by_domain(learner, track)}
    assert mastery["networking"].mean > mastery["dicomweb"].mean
    assert mastery["dicomweb"].low < mastery["dicomweb"].mean < mastery["dicomweb"].high
    picks = [
        pk
        for seed in range(20)
        for pk in practice_session_start(learner=learner, track=track, count=4, seed=seed).queue
    ]
    weak_share = sum(pk in web for pk in picks) / len(picks)
    assert weak_share > 0.6, weak_share


def test_another_learner_cannot_open_or_answer_my_session(bank, learner_client: Client, other_learner):
    session = start(learner_client)
    intruder = signed_in(other_learner)
    assert intruder.get(reverse("practice:session", args=[session.pk])).status_code == 404
    item = current_item(session)
    assert (
        intruder.post(reverse("practice:answer", args=[session.pk]), {"item": item.pk, "choice": "b"}).status_code
        == 404
    )
    assert not Response.objects.exists()


def test_flag_and_note_only_on_items_the_learner_answered(bank, learner_client: Client):
    session = start(learner_client)
    item = current_item(session)
    url = reverse("practice:flag", args=[item.pk])
    assert learner_client.post(url, {"flagged": "1"}).status_code == 404
    learner_client.post(reverse("practice:answer", args=[session.pk]), {"item": item.pk, "choice": "b"})
    assert "Flagged" in learner_client.post(url, {"flagged": "1"}).content.decode()
    learner_client.post(url, {"note": "remember: C-ECHO"})
    flagged = start(learner_client, mode="flagged")
    assert flagged.queue == [item.pk]


def test_the_dashboard_shows_reviews_due_and_mastery(bank, learner_client: Client, learner):
    learner.exam_track = "CDIP"
    learner.save()
    page = learner_client.get(reverse("core:dashboard")).content.decode()
    assert "Reviews due" in page
    assert "DICOMweb" in page


def test_the_next_step_is_due_reviews_then_the_weakest_domain(bank, learner):
    from trainer.practice.selectors import due_cards_count, next_action, readiness_trend

    track = Track.objects.get(code="CDIP")
    fresh = next_action(learner, mastery_by_domain(learner, track), due_cards_count(learner))
    assert fresh.url_name == "practice:home"
    session = practice_session_start(learner=learner, track=track, count=1, seed=2)
    practice_answer(session=session, item_id=session.queue[0], raw={"choice": "a"})
    Card.objects.update(due=timezone.now() - timedelta(minutes=1))
    due = due_cards_count(learner)
    assert due == 1
    assert next_action(learner, mastery_by_domain(learner, track), due).url_name == "practice:review"
    trend = readiness_trend(learner, track)
    assert [(p.answered, p.percent_right) for p in trend] == [(1, 0)]

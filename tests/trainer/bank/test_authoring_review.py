"""The review queue: a reviewer answers blind, then sees the key, then accepts, returns or retires; an author
never reviews their own item."""

import pytest
from django.urls import reverse

from tests.conftest import signed_in
from tests.trainer.bank.conftest import instructor_named
from trainer.bank.models import Item, ItemEvent, ItemStatus
from trainer.bank.services import AuthoringError, item_review_answer, item_review_decide, item_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer():
    return instructor_named("rhea")


def test_the_queue_lists_items_in_review_and_marks_your_own(submitted, instructor_client, reviewer):
    own = instructor_client.get(reverse("bank:review-queue")).content.decode()
    assert "ui-echo-001" in own and "yours: another instructor reviews it" in own
    other = signed_in(reviewer).get(reverse("bank:review-queue")).content.decode()
    assert reverse("bank:review", args=["ui-echo-001"]) in other


def test_a_reviewer_answers_blind_before_seeing_the_key(submitted, reviewer):
    client = signed_in(reviewer)
    url = reverse("bank:review", args=["ui-echo-001"])
    blind = client.get(url).content.decode()
    assert "answer blind" in blind and 'name="choice"' in blind
    assert "C-ECHO is the Verification service" not in blind  # no rationale, no key yet
    assert "opt-key" not in blind
    assert client.post(url, {"step": "answer", "choice": "a"}).status_code == 302
    event = ItemEvent.objects.get(item=submitted, action="reviewed")
    assert (event.by, event.blind_answer, event.verdict, event.version) == (
        reviewer,
        [0],
        "",
        submitted.current_version,
    )
    keyed = client.get(url).content.decode()
    assert "Step 2 of 2" in keyed and "Your blind answer: <strong>A</strong>" in keyed
    assert "C-ECHO is the Verification service" in keyed and "Not quite" in keyed


def test_the_verdict_needs_the_blind_answer_first(submitted, reviewer):
    with pytest.raises(AuthoringError, match="blind"):
        item_review_decide(item=submitted, reviewer=reviewer, decision="accept")
    page = (
        signed_in(reviewer)
        .post(reverse("bank:review", args=["ui-echo-001"]), {"step": "decide", "decision": "accept"})
        .content.decode()
    )
    assert "answer the item blind before giving a verdict" in page
    submitted.refresh_from_db()
    assert submitted.status == ItemStatus.IN_REVIEW


def test_accepting_publishes_the_item_with_the_reviewer_and_the_verdict(submitted, reviewer):
    client = signed_in(reviewer)
    url = reverse("bank:review", args=["ui-echo-001"])
    client.post(url, {"step": "answer", "choice": "b"})
    response = client.post(url, {"step": "decide", "decision": "accept", "notes": "Key confirmed in PS3.4 A.4."})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == ItemStatus.PUBLISHED and submitted.reviewer == reviewer
    review = ItemEvent.objects.get(item=submitted, action="reviewed")
    assert (review.blind_answer, review.verdict, review.notes) == ([1], "accepted", "Key confirmed in PS3.4 A.4.")
    actions = list(submitted.events.values_list("action", flat=True))
    assert actions == ["drafted", "submitted", "reviewed", "published"]
    history = client.get(reverse("bank:item-history", args=["ui-echo-001"])).content.decode()
    assert "blind answer B" in history and "matched the key" in history and "accepted" in history


def test_returning_needs_comments_and_sends_the_item_back_to_draft(submitted, reviewer):
    client = signed_in(reviewer)
    url = reverse("bank:review", args=["ui-echo-001"])
    client.post(url, {"step": "answer", "choice": "c"})
    page = client.post(url, {"step": "decide", "decision": "return", "notes": ""}).content.decode()
    assert "say what the author should change" in page
    client.post(url, {"step": "decide", "decision": "return", "notes": "Option C is arguable; reword it."})
    submitted.refresh_from_db()
    assert submitted.status == ItemStatus.DRAFT
    assert ItemEvent.objects.get(action="reviewed").verdict == "returned"
    assert ItemEvent.objects.get(action="returned").notes == "Option C is arguable; reword it."


def test_retiring_from_review(submitted, reviewer):
    item_review_answer(item=submitted, reviewer=reviewer, raw={"choice": "b"})
    item_review_decide(item=submitted, reviewer=reviewer, decision="retire", notes="Duplicates t-echo-001.")
    submitted.refresh_from_db()
    assert submitted.status == ItemStatus.RETIRED
    assert ItemEvent.objects.get(action="reviewed").verdict == "dropped"


def test_an_author_cannot_review_their_own_item(submitted, instructor, instructor_client):
    url = reverse("bank:review", args=["ui-echo-001"])
    page = instructor_client.get(url).content.decode()
    assert "You wrote this item" in page and 'name="choice"' not in page
    page = instructor_client.post(url, {"step": "answer", "choice": "b"}).content.decode()
    assert "another instructor must review it" in page
    with pytest.raises(AuthoringError, match="another instructor"):
        item_review_answer(item=submitted, reviewer=instructor, raw={"choice": "b"})
    assert not ItemEvent.objects.filter(action="reviewed").exists()


def test_an_imported_items_author_handle_counts_as_its_author(sample):
    carol = instructor_named("carol")  # SAMPLE's t-size-001 was drafted by "carol"
    item = Item.objects.get(external_id="t-size-001")
    item_submit(item=item, by=carol)
    with pytest.raises(AuthoringError, match="you wrote this item"):
        item_review_answer(item=item, reviewer=carol, raw={"value": "100"})


def test_only_items_in_review_can_be_reviewed_and_answers_are_checked(sample, reviewer):
    published = Item.objects.get(external_id="t-echo-001")
    with pytest.raises(AuthoringError, match="not in review"):
        item_review_answer(item=published, reviewer=reviewer, raw={"choice": "b"})
    draft = Item.objects.get(external_id="t-size-001")
    item_submit(item=draft, by=reviewer)
    client = signed_in(instructor_named("vera"))
    page = client.post(
        reverse("bank:review", args=["t-size-001"]), {"step": "answer", "value": "lots"}
    ).content.decode()
    assert "enter a number" in page
    client.post(reverse("bank:review", args=["t-size-001"]), {"step": "answer", "value": "100.2"})
    assert ItemEvent.objects.get(item=draft, action="reviewed").blind_answer == 100.2


def test_a_blind_answer_is_given_once_per_version(submitted, reviewer):
    item_review_answer(item=submitted, reviewer=reviewer, raw={"choice": "b"})
    with pytest.raises(AuthoringError, match="already answered"):
        item_review_answer(item=submitted, reviewer=reviewer, raw={"choice": "a"})

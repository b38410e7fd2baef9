"""Blind review cannot be skipped: until a reviewer has recorded their blind answer, no page or API response shows
them the key (edit page, preview feedback, history; item, versions, history endpoints), they cannot decide, and
they cannot take the item out of review to read it."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import signed_in
from tests.trainer.bank.conftest import instructor_named, item_post
from trainer.bank.models import ItemStatus

pytestmark = pytest.mark.django_db

KEY_RATIONALE = "C-ECHO is the Verification service."  # the key's rationale in item_post()


@pytest.fixture
def reviewer_client() -> Client:
    return signed_in(instructor_named("rhea"))


def answer_blind(client: Client) -> None:
    response = client.post(reverse("bank:review", args=["ui-echo-001"]), {"step": "answer", "choice": "b"})
    assert response.status_code == 302


def test_the_edit_preview_and_history_pages_send_the_reviewer_to_answer_blind_first(
    submitted, reviewer_client: Client, instructor_client: Client
):
    review = reverse("bank:review", args=["ui-echo-001"])
    for response in (
        reviewer_client.get(reverse("bank:item-edit", args=["ui-echo-001"])),
        reviewer_client.post(reverse("bank:item-edit", args=["ui-echo-001"]), item_post(external_id="ui-echo-001")),
        reviewer_client.post(reverse("bank:item-preview", args=["ui-echo-001"]), {"choice": "b"}),
        reviewer_client.get(reverse("bank:item-history", args=["ui-echo-001"])),
    ):
        assert response.status_code == 302 and response["Location"] == review
    page = reviewer_client.get(review).content.decode()
    assert "answer it on its review page before you can see its key" in page and KEY_RATIONALE not in page
    # the learner view of the preview shows no key, so it stays open
    preview = reviewer_client.get(reverse("bank:item-preview", args=["ui-echo-001"])).content.decode()
    assert KEY_RATIONALE not in preview
    # the author sees their own item; after the blind answer the reviewer does too
    assert KEY_RATIONALE in instructor_client.get(reverse("bank:item-edit", args=["ui-echo-001"])).content.decode()
    answer_blind(reviewer_client)
    assert KEY_RATIONALE in reviewer_client.get(reverse("bank:item-edit", args=["ui-echo-001"])).content.decode()


def test_the_page_refuses_a_verdict_without_a_blind_answer(submitted, reviewer_client: Client):
    url = reverse("bank:review", args=["ui-echo-001"])
    page = reviewer_client.post(url, {"step": "decide", "decision": "accept", "notes": ""}).content.decode()
    assert "answer the item blind before giving a verdict" in page and KEY_RATIONALE not in page
    submitted.refresh_from_db()
    assert submitted.status == ItemStatus.IN_REVIEW


def test_a_reviewer_cannot_take_the_item_out_of_review_to_read_it(submitted, reviewer_client: Client):
    status_url = reverse("bank:item-status", args=["ui-echo-001"])
    for action in ("draft", "retire"):
        page = reviewer_client.post(status_url, {"action": action, "notes": "x"}, follow=True).content.decode()
        assert "only its author can" in page
        submitted.refresh_from_db()
        assert submitted.status == ItemStatus.IN_REVIEW
    for name in ("api:bank:item-draft", "api:bank:item-retire"):
        response = reviewer_client.post(reverse(name, args=["ui-echo-001"]), {"notes": "x"})
        assert response.status_code == 400 and "only its author can" in response.json()["detail"]
    submitted.refresh_from_db()
    assert submitted.status == ItemStatus.IN_REVIEW


def test_the_api_hides_the_key_until_the_blind_answer(submitted, reviewer_client: Client, instructor_client: Client):
    for name in ("api:bank:item", "api:bank:item-versions", "api:bank:item-history"):
        response = reviewer_client.get(reverse(name, args=["ui-echo-001"]))
        assert response.status_code == 403, name
        assert (
            "answer it on its review page" in response.json()["detail"]
            and KEY_RATIONALE not in response.content.decode()
        )
    body = {"type": "single", "stem": "changed", "domains": [{"track": "CDIP", "domain": "networking"}]}
    update = reviewer_client.post(
        reverse("api:bank:item-update", args=["ui-echo-001"]), body, content_type="application/json"
    )
    assert update.status_code == 403
    assert instructor_client.get(reverse("api:bank:item", args=["ui-echo-001"])).json()["stem"] != "changed"
    decide = reviewer_client.post(reverse("api:bank:item-review-decide", args=["ui-echo-001"]), {"decision": "accept"})
    assert decide.status_code == 400 and "blind" in decide.json()["detail"]
    answer = reviewer_client.post(
        reverse("api:bank:item-review-answer", args=["ui-echo-001"]),
        {"response": {"choice": "b"}},
        content_type="application/json",
    )
    assert answer.status_code == 201 and answer.json() == {"version": 1, "blind_answer": [1]}
    item = reviewer_client.get(reverse("api:bank:item", args=["ui-echo-001"]))
    assert item.status_code == 200 and item.json()["options"][1]["rationale"] == KEY_RATIONALE
    decided = reviewer_client.post(reverse("api:bank:item-review-decide", args=["ui-echo-001"]), {"decision": "accept"})
    assert decided.status_code == 200 and decided.json()["status"] == "published"


def test_an_export_leaves_out_the_items_the_user_is_to_review_blind(submitted, reviewer_client, instructor_client):
    for client, present in ((reviewer_client, False), (instructor_client, True)):
        api = client.get(reverse("api:bank:export"), {"format": "native"}).content.decode()
        page = client.get(reverse("bank:export"), {"format": "csv"}).content.decode()
        assert ("ui-echo-001" in api, "ui-echo-001" in page) == (present, present)
        assert (KEY_RATIONALE in api) == present
    answer_blind(reviewer_client)
    assert KEY_RATIONALE in reviewer_client.get(reverse("api:bank:export"), {"format": "native"}).content.decode()


def test_the_lint_page_and_api_keep_key_cues_from_a_reviewer_until_the_blind_answer(
    tracks, instructor, instructor_client: Client, reviewer_client: Client
):
    from trainer.bank.services import item_submit

    long_key = "C-ECHO, the Verification service that every storage SCP and SCU supports"
    options = [("C-FIND", False, "Queries."), (long_key, True, KEY_RATIONALE), ("C-MOVE", False, "Retrieves."),
               ("N-ACTION", False, "Actions.")]  # fmt: skip
    assert instructor_client.post(reverse("bank:item-new"), item_post(options=options)).status_code == 302
    from trainer.bank.models import Item

    item_submit(item=Item.objects.get(external_id="ui-echo-001"), by=instructor)
    cue = "the key is clearly the longest option"

    def cues(client: Client) -> tuple[bool, bool]:
        page = client.get(reverse("bank:lint")).content.decode()
        api = client.get(reverse("api:bank:lint")).json()["findings"]
        return cue in page, any(f["rule"] == "key-longest" and f["item"] == "ui-echo-001" for f in api)

    assert cues(instructor_client) == (True, True)  # the author sees every finding
    assert cues(reviewer_client) == (False, False)  # the reviewer would learn which option is the key
    answer_blind(reviewer_client)
    assert cues(reviewer_client) == (True, True)


def test_someone_who_edited_the_item_cannot_review_it_blind(tracks, instructor, instructor_client: Client):
    from trainer.bank.models import Item, ItemEvent
    from trainer.bank.services import item_submit

    editor = signed_in(instructor_named("eddie"))
    assert instructor_client.post(reverse("bank:item-new"), item_post()).status_code == 302
    fixed = item_post(external_id="ui-echo-001", stem="Which DIMSE service verifies that two AEs can associate?")
    assert editor.post(reverse("bank:item-edit", args=["ui-echo-001"]), fixed).status_code == 302  # read the key
    item_submit(item=Item.objects.get(external_id="ui-echo-001"), by=instructor)
    review = reverse("bank:review", args=["ui-echo-001"])
    page = editor.get(review).content.decode()
    assert "You edited this item: another instructor must review it." in page and 'name="choice"' not in page
    assert (
        "another instructor must review it" in editor.post(review, {"step": "answer", "choice": "b"}).content.decode()
    )
    assert not ItemEvent.objects.filter(action="reviewed").exists()
    answer_blind(signed_in(instructor_named("rhea")))  # someone who never saw it may
    assert ItemEvent.objects.filter(action="reviewed").count() == 1

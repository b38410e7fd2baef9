"""Writing and editing items through the authoring pages: validation, versions, preview, history and diffs."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from tests.trainer.bank.conftest import current, item_post
from trainer.bank.models import Item, ItemEvent, ItemStatus, ItemVersion
from trainer.bank.selectors import item_to_schema, item_versions_diff
from trainer.bank.services import item_versions_lock

pytestmark = pytest.mark.django_db


def create(client: Client, **fields) -> Item:
    response = client.post(reverse("bank:item-new"), item_post(**fields))
    assert response.status_code == 302, response.content.decode()[-3000:]
    return Item.objects.get(external_id=fields.get("external_id", "ui-echo-001"))


def edit(client: Client, item: Item, **fields):
    return client.post(
        reverse("bank:item-edit", args=[item.external_id]), item_post(external_id=item.external_id, **fields)
    )


def test_an_instructor_creates_a_draft_with_every_field(tracks, instructor, instructor_client: Client):
    item = create(instructor_client)
    data = item_to_schema(item)
    assert item.status == ItemStatus.DRAFT and item.author == instructor and not item.generated
    assert [o.correct for o in data.options] == [False, True, False, False]
    assert data.options[1].rationale == "C-ECHO is the Verification service."
    assert [(d.track, d.domain) for d in data.domains] == [("CDIP", "networking"), ("CIIP", "image-management")]
    assert data.tags == ["dimse", "verification"]
    assert (data.difficulty, data.level) == ("easy", "recall")
    assert data.references[0].section == "A.4"
    assert list(item.events.values_list("action", "by_handle")) == [("drafted", "ines")]


def test_an_invalid_item_is_refused_with_a_clear_message_and_nothing_saved(tracks, instructor_client: Client):
    options = [("one", False, "x"), ("two", False, "y"), ("three", False, "z"), ("four", False, "w")]
    page = instructor_client.post(reverse("bank:item-new"), item_post(options=options)).content.decode()
    assert "exactly one marked correct" in page
    assert not Item.objects.exists()
    page = instructor_client.post(reverse("bank:item-new"), item_post(external_id="Not An Id!")).content.decode()
    assert "lowercase letters, digits and dashes" in page
    assert 'aria-invalid="true"' in page
    assert not Item.objects.exists()


def test_a_duplicate_id_is_refused(tracks, instructor_client: Client):
    create(instructor_client)
    page = instructor_client.post(reverse("bank:item-new"), item_post()).content.decode()
    assert "already exists" in page
    assert Item.objects.count() == 1


def test_each_type_keeps_only_its_own_answer_fields(tracks, instructor_client: Client):
    item = create(
        instructor_client,
        external_id="ui-size-001",
        type="numeric",
        stem="A CT series has 200 images of 512 x 512 pixels at 2 bytes each. How many MiB of pixel data?",
        answer="100",
        tolerance="0.5",
        unit="MiB",
        rationale="512 x 512 x 2 bytes = 0.5 MiB per image.",
    )  # the single-answer option rows in the POST are ignored for a numeric item
    data = item_to_schema(item)
    assert (data.answer, data.tolerance, data.unit, data.options) == (100.0, 0.5, "MiB", [])
    matching = create(
        instructor_client,
        external_id="ui-match-001",
        type="matching",
        stem="Match each DIMSE service with what it does.",
        pairs=[("C-ECHO", "verifies", "Verification."), ("C-STORE", "stores", "Storage."), ("C-FIND", "queries", "Q.")],
    )
    assert [p.prompt for p in item_to_schema(matching).pairs] == ["C-ECHO", "C-STORE", "C-FIND"]


def test_editing_before_a_learner_saw_the_item_changes_it_in_place(tracks, instructor_client: Client):
    item = create(instructor_client)
    response = edit(instructor_client, item, stem="Which DIMSE service verifies DICOM connectivity between two AEs?")
    assert response.status_code == 302
    assert item.versions.count() == 1
    assert "verifies DICOM connectivity" in current(item).stem
    assert item.events.filter(action="edited").count() == 1


def test_editing_a_version_a_learner_saw_makes_a_new_version_and_keeps_the_old_one(tracks, instructor_client: Client):
    item = create(instructor_client)
    shown = current(item)
    item_versions_lock(version_ids=[shown.pk])
    response = edit(instructor_client, item, stem="Which DIMSE service verifies DICOM connectivity between two AEs?")
    assert response.status_code == 302
    assert current(item).number == 2
    assert "verifies DICOM connectivity" in current(item).stem
    shown.refresh_from_db()
    assert shown.stem == item_post()["stem"] and shown.locked  # what the learner saw is untouched
    event = item.events.get(action="edited")
    assert event.version == item.current_version and "version 1 had been shown" in event.notes
    page = instructor_client.get(reverse("bank:item-edit", args=[item.external_id]), follow=True).content.decode()
    assert "version 2" in page


def test_saving_without_a_change_records_nothing(tracks, instructor_client: Client):
    item = create(instructor_client)
    edit(instructor_client, item)
    assert not item.events.filter(action="edited").exists()
    assert ItemVersion.objects.count() == 1


def test_the_type_of_an_item_learners_have_seen_cannot_change(tracks, instructor_client: Client):
    item = create(instructor_client)
    item_versions_lock(version_ids=[current(item).pk])
    options = [("a", True, "x"), ("b", True, "y"), ("c", False, "z"), ("d", False, "w")]
    page = edit(instructor_client, item, type="multiple", options=options).content.decode()
    assert "type cannot change" in page
    item.refresh_from_db()
    assert item.type == "single"


def test_the_history_page_shows_the_change_between_versions(tracks, instructor_client: Client):
    item = create(instructor_client)
    item_versions_lock(version_ids=[current(item).pk])
    edit(instructor_client, item, stem="Which DIMSE service verifies connectivity between two application entities?")
    page = instructor_client.get(reverse("bank:item-history", args=[item.external_id])).content.decode()
    assert "Changes from v1 to v2" in page
    assert "<del>" in page and "<ins>" in page
    assert "<ins>verifies connectivity between two" in page or "<ins>verifies" in page
    assert "Stem" in page and "Options: unchanged." in page


def test_the_diff_marks_changed_words_and_lines():
    from trainer.bank.models import ItemVersion as V

    old = V(stem="Which port\ndoes DICOM use?", options=[{"text": "104", "correct": True, "rationale": "r"}])
    new = V(stem="Which TCP port\ndoes DICOM use?", options=[{"text": "11112", "correct": True, "rationale": "r"}])
    diff = {f.field: f for f in item_versions_diff(old=old, new=new, item_type="single")}
    stem = diff["Stem"].rows
    assert stem[0].kind == "changed" and [s.text for s in stem[0].new if s.changed] == ["TCP "]
    assert stem[1].kind == "equal"
    assert [s.text for s in diff["Options"].rows[0].old if s.changed] == ["104"]
    assert not diff["Rationale"].changed


def test_preview_shows_what_a_learner_sees_then_the_feedback(sample, instructor_client: Client):
    url = reverse("bank:item-preview", args=["t-echo-001"])
    page = instructor_client.get(url).content.decode()
    assert "Which DIMSE service verifies" in page
    assert 'name="choice" value="b"' in page  # the practice app's answer fields
    assert "C-ECHO is the Verification service" not in page  # no rationale before answering
    assert "correct" not in page.lower().replace("correctly", "")
    answered = instructor_client.post(url + "?version=1", {"choice": "a"}).content.decode()
    assert "Not quite" in answered
    assert "C-ECHO is the Verification service" in answered and "C-FIND queries for matches" in answered
    assert "DICOM PS3.4 §A.4" in answered
    refused = instructor_client.post(url, {}).content.decode()
    assert "choose one of the options" in refused


def test_previewing_does_not_count_as_showing_the_item_to_a_learner(sample, instructor_client: Client):
    instructor_client.get(reverse("bank:item-preview", args=["t-echo-001"]))
    instructor_client.post(reverse("bank:item-preview", args=["t-echo-001"]), {"choice": "b"})
    assert not ItemVersion.objects.filter(locked=True).exists()


def test_the_edit_page_shows_the_linter_findings(sample, instructor_client: Client):
    page = instructor_client.get(reverse("bank:item-edit", args=["t-size-001"])).content.decode()
    assert "The linter finds nothing to fix." in page  # numeric item with tolerance, unit, rationale, reference
    item = create(
        instructor_client,
        options=[("All of the above", False, ""), ("b", True, "y"), ("c", False, "z"), ("d", False, "w")],
    )
    page = instructor_client.get(reverse("bank:item-edit", args=[item.external_id])).content.decode()
    assert "all-none-of-the-above" in page and "missing-rationale" in page


def png(size=(4, 4)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_image_is_stored_with_the_item_and_shown_to_learners(
    tracks, instructor_client, learner_client, settings, tmp_path
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    item = create(instructor_client)
    upload = SimpleUploadedFile("scan.png", png(), content_type="image/png")
    response = edit(instructor_client, item, image=upload, image_alt="A CT localiser")
    assert response.status_code == 302
    [media] = current(item).media
    assert media["alt"] == "A CT localiser" and media["file"].endswith(".png")
    page = instructor_client.get(reverse("bank:item-preview", args=[item.external_id])).content.decode()
    image_url = reverse("bank-media", args=[media["file"]])
    assert f'src="{image_url}"' in page and 'alt="A CT localiser"' in page
    assert learner_client.get(image_url).status_code == 200
    assert Client().get(image_url).status_code == 302  # signed-in users only


def test_an_upload_that_is_not_an_image_or_too_big_is_refused(tracks, instructor_client, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    item = create(instructor_client)
    fake = SimpleUploadedFile("evil.png", b"<script>alert(1)</script>", content_type="image/png")
    page = edit(instructor_client, item, image=fake, image_alt="x").content.decode()
    assert "image" in page.lower() and 'aria-invalid="true"' in page
    from trainer.bank.services import AuthoringError, media_store

    with pytest.raises(AuthoringError, match="limit"):
        media_store(upload=SimpleUploadedFile("big.png", png((400, 400))), max_bytes=100)
    missing_alt = edit(instructor_client, item, image=SimpleUploadedFile("a.png", png()), image_alt="").content.decode()
    assert "Describe the image" in missing_alt
    assert current(item).media == []


def test_workflow_buttons_move_the_item_and_record_events(tracks, instructor_client: Client):
    item = create(instructor_client)
    status_url = reverse("bank:item-status", args=[item.external_id])
    instructor_client.post(status_url, {"action": "submit"})
    item.refresh_from_db()
    assert item.status == ItemStatus.IN_REVIEW
    instructor_client.post(status_url, {"action": "retire"})
    item.refresh_from_db()
    assert item.status == ItemStatus.RETIRED
    assert list(item.events.values_list("action", flat=True)) == ["drafted", "submitted", "retired"]


def test_an_item_with_lint_errors_cannot_be_submitted_for_review(tracks, instructor_client: Client):
    item = create(instructor_client, options=[("a", False, ""), ("b", True, "y"), ("c", False, "z"), ("d", False, "w")])
    page = instructor_client.post(
        reverse("bank:item-status", args=[item.external_id]), {"action": "submit"}, follow=True
    )
    assert "fix the linter" in page.content.decode()
    item.refresh_from_db()
    assert item.status == ItemStatus.DRAFT
    assert not ItemEvent.objects.filter(action="submitted").exists()


def test_a_half_filled_option_row_is_reported_not_dropped(tracks, instructor_client: Client):
    options = [("a", False, "x"), ("b", True, "y"), ("c", False, "z"), ("d", False, "w"), ("", False, "why?")]
    page = instructor_client.post(reverse("bank:item-new"), item_post(options=options)).content.decode()
    assert "option 5: the text is empty but other fields are filled" in page
    assert not Item.objects.exists()

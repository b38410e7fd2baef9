"""The bank API: instructors manage items, reviews, lint, stats, import/export and blueprints through the same
services as the pages."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import signed_in
from tests.trainer.bank.conftest import SAMPLE, current, instructor_named
from trainer.bank.formats.native import parse_native
from trainer.bank.models import Blueprint, Item, ItemStatus, ItemVersion
from trainer.bank.services import item_versions_lock

pytestmark = pytest.mark.django_db

NEW_ITEM = {
    "id": "api-echo-001",
    "type": "single",
    "stem": "Which DIMSE service lets a PACS administrator test that a peer AE answers?",
    "options": [
        {"text": "C-FIND", "rationale": "C-FIND queries."},
        {"text": "C-ECHO", "correct": True, "rationale": "C-ECHO is Verification."},
        {"text": "C-MOVE", "rationale": "C-MOVE retrieves."},
        {"text": "N-ACTION", "rationale": "N-ACTION asks for an action."},
    ],
    "rationale": "The Verification SOP Class uses C-ECHO.",
    "references": [{"standard": "DICOM PS3.4", "section": "A.4"}],
    "domains": [{"track": "CDIP", "domain": "networking"}],
    "tags": ["verification"],
    "level": "recall",
}


def post(client: Client, name: str, data=None, *args):
    return client.post(reverse(name, args=args), data or {}, content_type="application/json")


def test_create_read_and_update_an_item(tracks, instructor_client):
    created = post(instructor_client, "api:bank:item-create", NEW_ITEM)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["id"], body["status"], body["version"], body["author"]) == ("api-echo-001", "draft", 1, "ines")
    assert body["options"][1]["correct"] is True
    fetched = instructor_client.get(reverse("api:bank:item", args=["api-echo-001"])).json()
    assert fetched["stem"] == NEW_ITEM["stem"] and fetched["history"][0]["action"] == "drafted"
    change = {k: v for k, v in NEW_ITEM.items() if k != "id"} | {"stem": "Which DIMSE service verifies a peer AE?"}
    updated = post(instructor_client, "api:bank:item-update", change, "api-echo-001")
    assert updated.status_code == 200 and updated.json()["stem"] == change["stem"] and updated.json()["version"] == 1


def test_an_update_of_a_seen_version_makes_a_new_version(sample, instructor_client):
    item = Item.objects.get(external_id="t-echo-001")
    item_versions_lock(version_ids=[current(item).pk])
    data = instructor_client.get(reverse("api:bank:item", args=["t-echo-001"])).json()
    change = {
        k: data[k] for k in ("type", "options", "rationale", "references", "domains", "tags", "difficulty", "level")
    }
    change["stem"] = "Which DIMSE service checks that two AEs can communicate?"
    body = post(instructor_client, "api:bank:item-update", change, "t-echo-001").json()
    assert body["version"] == 2 and body["locked"] is False
    versions = instructor_client.get(reverse("api:bank:item-versions", args=["t-echo-001"])).json()
    assert [(v["number"], v["locked"]) for v in versions] == [(2, False), (1, True)]
    assert "verifies that two DICOM AEs" in versions[1]["stem"]
    assert ItemVersion.objects.get(item=item, number=1).stem == versions[1]["stem"]
    history = instructor_client.get(reverse("api:bank:item-history", args=["t-echo-001"])).json()
    assert history[-1]["action"] == "edited" and history[-1]["version"] == 2


def test_bad_input_gets_a_clear_400(tracks, instructor_client):
    bad = NEW_ITEM | {"options": [{"text": "a", "rationale": "x"}, {"text": "b", "rationale": "y"}]}
    response = post(instructor_client, "api:bank:item-create", bad)
    assert response.status_code == 400
    assert "exactly one marked correct" in str(response.json())
    unknown = post(
        instructor_client, "api:bank:item-create", NEW_ITEM | {"domains": [{"track": "CDIP", "domain": "x"}]}
    )
    assert unknown.status_code == 400 and "unknown domain CDIP/x" in unknown.json()["detail"]
    assert post(instructor_client, "api:bank:item-create", {"id": "Bad Id"}).status_code == 400
    assert not Item.objects.exists()
    assert instructor_client.get(reverse("api:bank:item", args=["nope"])).status_code == 404


def test_list_filters_and_pages(sample, instructor_client):
    body = instructor_client.get(reverse("api:bank:items"), {"type": "numeric"}).json()
    assert body["count"] == 1 and body["results"][0]["id"] == "t-size-001"
    assert body["results"][0]["domains"] == ["CIIP/image-management"]
    searched = instructor_client.get(reverse("api:bank:items"), {"q": "verifies", "limit": 1}).json()
    assert [r["id"] for r in searched["results"]] == ["t-echo-001"]
    assert instructor_client.get(reverse("api:bank:items"), {"status": "nonsense"}).status_code == 400


def test_the_review_workflow_through_the_api(tracks, instructor_client):
    post(instructor_client, "api:bank:item-create", NEW_ITEM)
    assert post(instructor_client, "api:bank:item-submit", None, "api-echo-001").json()["status"] == "in_review"
    own = post(instructor_client, "api:bank:item-review-answer", {"response": {"choice": "b"}}, "api-echo-001")
    assert own.status_code == 400 and "another instructor" in own.json()["detail"]
    reviewer = signed_in(instructor_named("rhea"))
    early = post(reviewer, "api:bank:item-review-decide", {"decision": "accept"}, "api-echo-001")
    assert early.status_code == 400 and "blind" in early.json()["detail"]
    blind = post(reviewer, "api:bank:item-review-answer", {"response": {"choice": "b"}}, "api-echo-001")
    assert blind.status_code == 201 and blind.json() == {"version": 1, "blind_answer": [1]}
    done = post(reviewer, "api:bank:item-review-decide", {"decision": "accept", "notes": "ok"}, "api-echo-001")
    assert done.json()["status"] == "published"
    review = next(e for e in done.json()["history"] if e["action"] == "reviewed")
    assert (review["by"], review["blind_answer"], review["verdict"]) == ("rhea", [1], "accepted")
    assert (
        post(instructor_client, "api:bank:item-retire", {"notes": "old"}, "api-echo-001").json()["status"] == "retired"
    )
    assert post(instructor_client, "api:bank:item-draft", None, "api-echo-001").json()["status"] == "draft"


def test_lint_and_stats(sample, instructor_client):
    lint = instructor_client.get(reverse("api:bank:lint")).json()
    assert lint["items"] == 2 and "findings" in lint and lint["by_rule"]["blueprint-coverage"] >= 1
    stats = instructor_client.get(reverse("api:bank:stats")).json()
    assert stats["by_type"] == {"numeric": 1, "single": 1} and stats["by_status"]["published"] == 1


def test_import_dry_run_then_real_and_problems_with_lines(tracks, instructor_client):
    dry = post(instructor_client, "api:bank:import", {"format": "native", "text": SAMPLE, "dry_run": True})
    assert dry.status_code == 200 and dry.json()["created"] == ["t-echo-001", "t-size-001"] and dry.json()["dry_run"]
    assert not Item.objects.exists()
    broken = SAMPLE.replace("answer: 100", "answer: lots")
    bad = post(instructor_client, "api:bank:import", {"format": "native", "text": broken})
    assert bad.status_code == 400 and bad.json()["problems"][0]["line"] == 28
    assert not Item.objects.exists()
    from django.core.files.uploadedfile import SimpleUploadedFile

    real = instructor_client.post(
        reverse("api:bank:import"), {"format": "native", "file": SimpleUploadedFile("b.yaml", SAMPLE.encode())}
    )
    assert real.status_code == 200 and real.json()["summary"].startswith("imported 2 items")
    assert Item.objects.count() == 2
    unknown = post(instructor_client, "api:bank:import", {"format": "docx", "text": SAMPLE})
    assert unknown.status_code == 400
    neither = post(instructor_client, "api:bank:import", {"format": "native"})
    assert neither.status_code == 400 and "either" in str(neither.json())


def test_export_in_a_registered_format(sample, instructor_client):
    response = instructor_client.get(reverse("api:bank:export"), {"format": "native", "status": "draft"})
    assert response.status_code == 200
    items, problems = parse_native(response.content.decode())
    assert problems == [] and [i.id for i in items] == ["t-size-001"]
    assert instructor_client.get(reverse("api:bank:export"), {"format": "nope"}).status_code == 400


def test_blueprints_are_listed_and_edited(tracks, instructor_client):
    listed = instructor_client.get(reverse("api:bank:blueprints")).json()
    cdip = next(b for b in listed if b["code"] == "cdip-practice")
    assert cdip["domains"]["networking"] == 8 and cdip["scored_items"] == 50
    change = {
        "name": "CDIP drill",
        "time_limit_minutes": 15,
        "pilot_items": 0,
        "pass_mark_percent": None,
        "source_note": "Drill.",
        "domains": {"networking": 6, "dicomweb": 4},
    }
    body = post(instructor_client, "api:bank:blueprint-update", change, "cdip-practice").json()
    assert body["scored_items"] == 10 and body["domains"] == {"networking": 6, "dicomweb": 4}
    assert Blueprint.objects.get(code="cdip-practice").time_limit_minutes == 15
    wrong = post(instructor_client, "api:bank:blueprint-update", change | {"domains": {"anatomy": 3}}, "cdip-practice")
    assert wrong.status_code == 400 and "not a domain of CDIP" in wrong.json()["detail"]


def test_the_schema_documents_the_bank_api():
    schema = Client().get("/api/schema/").content.decode()
    for path in (
        "/api/bank/items/",
        "/api/bank/items/{external_id}/review/answer/",
        "/api/bank/import/",
        "/api/bank/blueprints/",
    ):
        assert path in schema
    assert ItemStatus.IN_REVIEW in schema


def test_binary_formats_export_through_the_api_and_the_page(sample, instructor_client):
    """Found by schemathesis: exporting as QTI (a zip) was a server error on both doors."""
    import io
    import zipfile

    for url in (reverse("api:bank:export"), reverse("bank:export")):
        response = instructor_client.get(url, {"format": "qti"})
        assert response.status_code == 200, url
        assert zipfile.ZipFile(io.BytesIO(response.content)).namelist()
        assert response["Content-Disposition"].endswith('.zip"')

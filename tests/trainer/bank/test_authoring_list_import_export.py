"""The bank list (filters, search, constant query count), import with a dry run, export, blueprints."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.trainer.bank.conftest import SAMPLE
from trainer.bank.formats import FORMATS
from trainer.bank.formats.native import parse_native
from trainer.bank.models import Blueprint, Item
from trainer.bank.schema import ItemIn
from trainer.bank.services import bank_import

pytestmark = pytest.mark.django_db


def many(n: int, start: int = 0) -> list[ItemIn]:
    topics = ["association", "storage", "worklist", "query", "retrieve", "commitment", "modality", "archive"]
    return [
        ItemIn.model_validate(
            {
                "id": f"bulk-{i:04d}",
                "type": "single",
                "stem": f"Item {i}: which statement about {topics[i % len(topics)]} number {i * 7919 % 1000} holds?",
                "options": [
                    {"text": f"first {i}", "rationale": "r"},
                    {"text": f"second {i}", "correct": True, "rationale": "r"},
                    {"text": f"third {i}", "rationale": "r"},
                    {"text": f"fourth {i}", "rationale": "r"},
                ],
                "rationale": "r",
                "references": [{"standard": "DICOM PS3.4", "section": "B"}],
                "domains": [{"track": "CDIP", "domain": "networking"}, {"track": "CIIP", "domain": "image-management"}],
                "tags": [topics[i % len(topics)], "bulk"],
                "status": "published",
            }
        )
        for i in range(start, start + n)
    ]


def list_queries(client: Client, **params) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("bank:items"), params)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_the_list_costs_the_same_queries_whatever_the_number_of_items_and_page_size(tracks, instructor_client):
    bank_import(items=many(5))
    few, page = list_queries(instructor_client, per_page=100)
    assert page.count('href="/bank/items/bulk-') == 5
    bank_import(items=many(60, start=5))
    more, page = list_queries(instructor_client, per_page=100)
    assert page.count('href="/bank/items/bulk-') == 65
    small_page, _ = list_queries(instructor_client, per_page=10)
    filtered, _ = list_queries(instructor_client, per_page=100, track="CDIP", tag="bulk", q="storage")
    assert few == more == small_page, (few, more, small_page)
    assert filtered <= few + 1


def test_filters_narrow_the_list(sample, instructor_client):
    def ids(**params) -> set[str]:
        _, page = list_queries(instructor_client, **params)
        return {i for i in ("t-echo-001", "t-size-001") if f'href="/bank/items/{i}/"' in page}

    assert ids() == {"t-echo-001", "t-size-001"}
    assert ids(type="numeric") == {"t-size-001"}
    assert ids(status="published") == {"t-echo-001"}
    assert ids(level="application") == {"t-size-001"}
    assert ids(track="CDIP") == {"t-echo-001"}
    assert ids(domain="CIIP/image-management") == {"t-echo-001", "t-size-001"}
    assert ids(domain="CDIP/networking") == {"t-echo-001"}
    assert ids(tag="arithmetic") == {"t-size-001"}
    assert ids(origin="generated") == set()
    assert ids(origin="authored") == {"t-echo-001", "t-size-001"}


def test_full_text_search_on_the_stem(sample, instructor_client):
    def ids(q: str) -> set[str]:
        _, page = list_queries(instructor_client, q=q)
        return {i for i in ("t-echo-001", "t-size-001") if f'href="/bank/items/{i}/"' in page}

    assert ids("verifies") == {"t-echo-001"}
    assert ids("verify DICOM") == {"t-echo-001"}  # stemming on PostgreSQL; every word on SQLite
    assert ids("pixels series") == {"t-size-001"}
    assert ids("t-size") == {"t-size-001"}  # ids match too
    assert ids("ultrasound") == set()


def test_the_list_pages(tracks, instructor_client):
    bank_import(items=many(30))
    _, page = list_queries(instructor_client, per_page=10, page=2, tag="bulk")
    assert "Page 2 of 3" in page and "bulk-0010" in page and "bulk-0009" not in page
    assert "tag=bulk" in page  # the pager keeps the filters


def upload(text: str, name: str = "bank.yaml") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="application/x-yaml")


def test_import_lists_every_problem_with_its_line_and_imports_nothing(tracks, instructor_client):
    broken = SAMPLE.replace("correct: true, ", "").replace("answer: 100", "answer: lots")
    for dry_run in ("on", ""):
        page = instructor_client.post(
            reverse("bank:import"), {"file": upload(broken), "format": "native", "dry_run": dry_run}
        ).content.decode()
        assert "2 problems — nothing was imported" in page
        assert "exactly one marked correct" in page
        assert "line 28" in page
    assert not Item.objects.exists()


def test_a_dry_run_reports_then_the_same_file_is_imported(tracks, instructor, instructor_client):
    page = instructor_client.post(
        reverse("bank:import"), {"file": upload(SAMPLE), "format": "native", "dry_run": "on"}
    ).content.decode()
    assert "would import 2 items: 2 new" in page
    assert not Item.objects.exists()
    token = page.split('name="token" value="')[1].split('"')[0]
    page = instructor_client.post(reverse("bank:import"), {"token": token}).content.decode()
    assert "imported 2 items: 2 new" in page
    assert set(Item.objects.values_list("external_id", flat=True)) == {"t-echo-001", "t-size-001"}
    again = instructor_client.post(
        reverse("bank:import"), {"file": upload(SAMPLE), "format": "native"}
    ).content.decode()
    assert "imported 2 items: 0 new, 0 changed" in again
    assert Item.objects.count() == 2
    expired = instructor_client.post(reverse("bank:import"), {"token": token}, follow=True).content.decode()
    assert "expired" in expired


def test_a_token_belongs_to_the_instructor_who_checked_the_file(tracks, instructor_client, admin_user):
    from tests.conftest import signed_in

    page = instructor_client.post(
        reverse("bank:import"), {"file": upload(SAMPLE), "format": "native", "dry_run": "on"}
    ).content.decode()
    token = page.split('name="token" value="')[1].split('"')[0]
    signed_in(admin_user).post(reverse("bank:import"), {"token": token})
    assert not Item.objects.exists()


def test_the_import_and_export_pages_offer_every_registered_format(instructor_client):
    for name in ("bank:import", "bank:export"):
        page = instructor_client.get(reverse(name)).content.decode()
        for fmt in FORMATS.values():
            assert f'value="{fmt.name}"' in page


def test_a_file_that_is_not_utf8_is_refused(tracks, instructor_client):
    bad = SimpleUploadedFile("bank.yaml", b"\xff\xfe\x00bad", content_type="application/x-yaml")
    page = instructor_client.post(reverse("bank:import"), {"file": bad, "format": "native"}).content.decode()
    assert "not UTF-8" in page


def test_export_downloads_the_bank_in_the_chosen_format(sample, instructor_client):
    response = instructor_client.get(reverse("bank:export"), {"format": "native", "status": "published"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="pacs-trainer-bank.yaml"'
    items, problems = parse_native(response.content.decode())
    assert problems == [] and [i.id for i in items] == ["t-echo-001"]
    everything = instructor_client.get(reverse("bank:export"), {"format": "native"}).content.decode()
    assert [i.id for i in parse_native(everything)[0]] == ["t-echo-001", "t-size-001"]


def test_lint_and_stats_page(sample, instructor_client):
    page = instructor_client.get(reverse("bank:lint")).content.decode()
    assert "2 items: 2 authored, 0 generated." in page
    assert "blueprint-coverage" in page  # two items cannot fill any blueprint


def test_an_instructor_edits_a_blueprint(tracks, instructor_client):
    url = reverse("bank:blueprint-edit", args=["cdip-practice"])
    page = instructor_client.get(url).content.decode()
    assert 'name="count_networking"' in page and 'value="8"' in page
    data = {
        "name": "CDIP short practice",
        "time_limit_minutes": "20",
        "pilot_items": "2",
        "pass_mark_percent": "70",
        "source_note": "Course 2026 layout.",
        **{f"count_{c}": "0" for c in ("data-model", "encoding", "workflow-services", "troubleshooting", "dicomweb")},
        "count_networking": "10",
        "count_conformance-media-security": "5",
    }
    assert instructor_client.post(url, data).status_code == 302
    bp = Blueprint.objects.get(code="cdip-practice")
    assert (bp.name, bp.time_limit_minutes, bp.pilot_items, bp.pass_mark_percent) == ("CDIP short practice", 20, 2, 70)
    assert bp.scored_items == 15
    assert {dc.domain.code: dc.items for dc in bp.domain_counts.all()} == {
        "networking": 10,
        "conformance-media-security": 5,
    }
    refused = instructor_client.post(url, {**data, "count_networking": "0", "count_conformance-media-security": "0"})
    assert "at least one scored item" in refused.content.decode()
    assert Blueprint.objects.get(code="cdip-practice").scored_items == 15

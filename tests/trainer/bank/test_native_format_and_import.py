import pytest

from tests.trainer.bank.conftest import SAMPLE
from trainer.bank.formats.native import dump_native, parse_native
from trainer.bank.models import Item, ItemEvent, ItemVersion
from trainer.bank.schema import ImportFailed
from trainer.bank.selectors import item_to_schema, items_as_schema, items_for_export
from trainer.bank.services import bank_import, bank_import_text, bundled_bank_items, item_versions_lock

pytestmark = pytest.mark.django_db


def test_native_file_round_trips_every_field(tracks):
    bank_import_text(text=SAMPLE, fmt="native")
    exported = dump_native(items_as_schema(items_for_export()))
    original, _ = parse_native(SAMPLE)
    again, problems = parse_native(exported)
    assert problems == []
    assert [i.model_dump() for i in again] == [i.model_dump() for i in original]


def test_reimporting_the_same_file_changes_nothing(tracks):
    first = bank_import_text(text=SAMPLE, fmt="native")
    second = bank_import_text(text=SAMPLE, fmt="native")
    assert len(first.created) == 2
    assert second.unchanged == ["t-echo-001", "t-size-001"]
    assert Item.objects.count() == 2
    assert ItemVersion.objects.count() == 2


def test_review_history_is_recorded_with_the_blind_answer(tracks):
    bank_import_text(text=SAMPLE, fmt="native")
    review = ItemEvent.objects.get(item__external_id="t-echo-001", action="reviewed")
    assert (review.by_handle, review.blind_answer, review.verdict) == ("bob", [1], "accepted")


def test_problems_are_reported_all_at_once_with_lines_and_nothing_is_imported(tracks):
    broken = SAMPLE.replace("correct: true, ", "").replace("answer: 100", "answer: lots")
    with pytest.raises(ImportFailed) as exc:
        bank_import_text(text=broken, fmt="native")
    messages = [str(p) for p in exc.value.problems]
    assert any("t-echo-001" in m and "exactly one marked correct" in m for m in messages)
    assert any("t-size-001" in m and "line 28" in m for m in messages), messages
    assert Item.objects.count() == 0


def test_unknown_domains_and_bad_yaml_are_clear(tracks):
    with pytest.raises(ImportFailed) as exc:
        bank_import_text(text=SAMPLE.replace("domain: networking", "domain: plumbing"), fmt="native")
    assert "unknown domain CDIP/plumbing" in str(exc.value.problems[0])
    with pytest.raises(ImportFailed) as exc:
        bank_import_text(text="schema: [unclosed", fmt="native")
    assert "not valid YAML" in str(exc.value.problems[0])


def test_a_failing_item_rolls_back_the_whole_import(tracks):
    items, _ = parse_native(SAMPLE)
    items[1].domains[0].domain = "nowhere"
    with pytest.raises(ImportFailed):
        bank_import(items=items)
    assert not Item.objects.exists()


def test_dry_run_reports_without_writing(tracks):
    report = bank_import_text(text=SAMPLE, fmt="native", dry_run=True)
    assert len(report.created) == 2
    assert not Item.objects.exists()


def test_an_edit_to_a_version_a_learner_saw_makes_a_new_version(tracks):
    bank_import_text(text=SAMPLE, fmt="native")
    item = Item.objects.get(external_id="t-echo-001")
    shown = item.current_version
    assert shown is not None
    item_versions_lock(version_ids=[shown.pk])
    edited = SAMPLE.replace("verifies that two DICOM AEs", "checks that two DICOM application entities")
    report = bank_import_text(text=edited, fmt="native")
    item.refresh_from_db()
    assert report.new_versions == ["t-echo-001"]
    assert item.current_version is not None
    assert item.current_version.number == 2
    shown.refresh_from_db()
    assert "verifies that two DICOM AEs" in shown.stem  # what the learner saw is kept as it was


def test_an_edit_before_anyone_saw_the_item_updates_it_in_place(tracks):
    bank_import_text(text=SAMPLE, fmt="native")
    bank_import_text(text=SAMPLE.replace("How many MiB", "How many mebibytes (MiB)"), fmt="native")
    item = Item.objects.get(external_id="t-size-001")
    assert item.versions.count() == 1
    assert "mebibytes" in item_to_schema(item).stem


def test_the_bundled_bank_parses_and_validates():
    items = bundled_bank_items()
    assert items
    assert len({i.id for i in items}) == len(items)

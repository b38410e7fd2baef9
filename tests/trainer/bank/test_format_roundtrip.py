"""Every exchange format: lossless round trips of the bank's items, import → export → import stability,
idempotent re-import through the database."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.trainer.bank.format_samples import all_types, qti_package, sample_bytes, without_history
from trainer.bank.formats import FORMATS, get_format
from trainer.bank.models import Item, ItemType, ItemVersion
from trainer.bank.selectors import items_as_schema, items_for_export
from trainer.bank.services import bank_import, bank_import_data

EXCHANGE = ["csv", "gift", "moodle", "qti"]
SAMPLE_FILES = [
    ("csv", "sample.csv"),
    ("gift", "edge-cases.gift"),
    ("moodle", "moodle-types.xml"),
    ("qti", "qti-package"),
]


def _sample(fmt: str, name: str) -> bytes:
    return qti_package(name) if fmt == "qti" else sample_bytes(name)


def test_every_format_is_registered_with_bytes_in_and_out():
    assert {"native", *EXCHANGE} <= set(FORMATS)
    assert get_format("qti").binary
    assert all(not FORMATS[name].binary for name in ("native", "csv", "gift", "moodle"))
    with pytest.raises(TypeError):
        get_format("qti").dump(all_types())


@pytest.mark.parametrize("fmt", EXCHANGE)
def test_the_banks_items_survive_a_round_trip(fmt):
    """Native items with every type and every awkward character come back field for field (but the history)."""
    items = all_types()
    written = get_format(fmt).write(items)
    back, problems = get_format(fmt).read(written.data)
    assert problems == []
    expected = [i for i in items if not (fmt == "gift" and i.type == ItemType.ORDERING)]
    assert without_history(back) == without_history(expected)


def test_gift_export_leaves_ordering_items_out_and_says_so():
    written = get_format("gift").write(all_types())
    assert [p.where for p in written.skipped] == ["rt-ordering-001"]
    assert "no GIFT equivalent" in written.skipped[0].message
    assert b"rt-ordering-001" not in written.data


@pytest.mark.parametrize(("fmt", "name"), SAMPLE_FILES)
def test_import_export_import_yields_the_same_items(fmt, name):
    first, problems = get_format(fmt).read(_sample(fmt, name))
    assert problems == []
    assert len(first) >= 6
    again, problems = get_format(fmt).read(get_format(fmt).write(first).data)
    assert problems == []
    assert [i.model_dump() for i in again] == [i.model_dump() for i in first]


@pytest.mark.parametrize(("fmt", "name"), SAMPLE_FILES)
def test_the_samples_convert_between_formats(fmt, name):
    """What one format imports, every other format that can hold it carries unchanged."""
    items, _ = get_format(fmt).read(_sample(fmt, name))
    for other in EXCHANGE:
        written = get_format(other).write(items)
        back, problems = get_format(other).read(written.data)
        assert problems == [], other
        kept = {p.where for p in written.skipped}
        assert without_history(back) == without_history([i for i in items if i.id not in kept]), other


@pytest.mark.django_db
@pytest.mark.parametrize(("fmt", "name"), SAMPLE_FILES)
def test_reimporting_a_sample_changes_nothing(tracks, fmt, name):
    data = _sample(fmt, name)
    first = bank_import_data(data=data, fmt=fmt)
    counts = (Item.objects.count(), ItemVersion.objects.count())
    second = bank_import_data(data=data, fmt=fmt)
    assert first.created and not first.unchanged
    assert second.unchanged == first.created
    assert not (second.created or second.updated or second.new_versions)
    assert (Item.objects.count(), ItemVersion.objects.count()) == counts


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", EXCHANGE)
def test_the_bank_exported_and_imported_again_is_unchanged(tracks, fmt):
    """Export from the database and import that file: every item is recognised by its id and nothing changes."""
    bank_import(items=all_types())
    written = get_format(fmt).write(items_as_schema(items_for_export()))
    report = bank_import_data(data=written.data, fmt=fmt)
    exported = Item.objects.exclude(external_id__in=[p.where for p in written.skipped])
    assert sorted(report.unchanged) == sorted(exported.values_list("external_id", flat=True))
    assert report.updated == report.created == []


_NOISE = st.text(alphabet='{}~=#:%\\\n ->.,"<>/;|x09TF$[]!-\r\té', max_size=12)


@settings(max_examples=80, deadline=None)
@given(fmt=st.sampled_from(EXCHANGE), cut=st.integers(min_value=0), noise=_NOISE, seed=st.integers(0, 2**16))
def test_damaged_files_give_problems_never_exceptions(fmt, cut, noise, seed):
    """Any damage to an export (text spliced in at any place) is reported, never raised; whatever still reads
    writes back and reads again the same."""
    data = bytearray(get_format(fmt).write(all_types()).data)
    where = cut % (len(data) + 1)
    data[where : where + seed % 7] = noise.encode()
    items, problems = get_format(fmt).read(bytes(data))
    assert all(p.message for p in problems)
    if items:
        written = get_format(fmt).write(items)
        again, problems = get_format(fmt).read(written.data)
        assert problems == []
        skipped = {p.where for p in written.skipped}
        assert [i.model_dump() for i in again] == [i.model_dump() for i in items if i.id not in skipped]

"""Items generated from pydicom's DICOM dictionaries: every key is what the dictionary says, no distractor is
also right, the linter finds nothing, the same seed gives the same items, and authored items are never touched."""

import re
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from pydicom.datadict import DicomDictionary, dictionary_description, dictionary_VR, tag_for_keyword
from pydicom.uid import UID_dictionary

from trainer.bank.generator import FAMILIES, VR_TABLE, GeneratorError, generate_items, subject_of
from trainer.bank.linter import lint_bank, lint_item
from trainer.bank.models import Item, ItemStatus
from trainer.bank.schema import ImportFailed, ItemIn
from trainer.bank.selectors import item_to_schema, items_search
from trainer.bank.services import bank_generate, bank_import

TAG_TEXT = re.compile(r"\(([0-9A-F]{4}),([0-9A-F]{4})\)")
UID_TEXT = re.compile(r"`([0-9.]+)`")


@pytest.fixture(scope="module")
def items() -> list[ItemIn]:
    return generate_items(count=240, seed=2026)


def family_subject(item_id: str) -> tuple[str, str]:
    found = subject_of(item_id)
    assert found is not None, item_id
    return found


def tag_named(keyword: str) -> int:
    tag = tag_for_keyword(keyword)
    assert tag is not None, keyword
    return tag


def tag_of(text: str) -> int:
    match = TAG_TEXT.search(text)
    assert match, text
    return int(match.group(1) + match.group(2), 16)


def uid_of(text: str) -> str:
    match = UID_TEXT.search(text)
    assert match, text
    return match.group(1)


def keyword_of(stem: str) -> str:
    match = re.search(r"keyword `(\w+)`", stem)
    assert match, stem
    return match.group(1)


def name_in_bold(stem: str) -> str:
    match = re.search(r"\*\*(.+?)\*\*", stem)
    assert match, stem
    return match.group(1)


def key_and_distractors(item: ItemIn) -> tuple[str, list[str]]:
    [key] = [o.text for o in item.options if o.correct]
    return key, [o.text for o in item.options if not o.correct]


def uid_named(name: str, kind: str) -> str:
    [uid] = [u for u, v in UID_dictionary.items() if v[0] == name and v[1] == kind]
    return uid


def test_every_family_is_generated_with_its_share(items):
    counts = Counter(family_subject(i.id)[0] for i in items)
    assert set(counts) == set(FAMILIES)
    assert counts["tag"] == counts["vr"] == counts["sop-uid"] == 40
    assert counts["ts-name"] + counts["ts-uid"] <= 80  # the transfer syntaxes are few, shared by two families


def test_tag_items_have_the_dictionarys_tag_as_key_and_other_attributes_tags_as_distractors(items):
    for item in (i for i in items if i.id.startswith("gen-tag-")):
        keyword = keyword_of(item.stem)
        tag = tag_named(keyword)
        key, distractors = key_and_distractors(item)
        assert tag_of(key) == tag, item.id
        assert item.id == f"gen-tag-{tag:08x}"
        entry = DicomDictionary[tag]
        assert entry[3] == "" and entry[2] == name_in_bold(item.stem)  # current, and the name the stem gives
        for text in distractors:
            other = tag_of(text)
            assert other != tag and other in DicomDictionary
            assert DicomDictionary[other][2] != entry[2] and DicomDictionary[other][4] != keyword


def test_attribute_items_name_the_attribute_the_dictionary_puts_at_the_tag(items):
    names = Counter(v[2] for v in DicomDictionary.values())
    for item in (i for i in items if i.id.startswith("gen-attribute-")):
        tag = tag_of(item.stem)
        key, distractors = key_and_distractors(item)
        assert key == dictionary_description(tag), item.id
        assert names[key] == 1  # no other tag has this name: the question has one answer
        for name in distractors:
            assert name != key and names[name] == 1
            [other] = [t for t, v in DicomDictionary.items() if v[2] == name]
            assert other != tag


def test_vr_items_have_the_dictionarys_single_vr_and_other_vrs_as_distractors(items):
    for item in (i for i in items if i.id.startswith("gen-vr-")):
        tag = tag_named(keyword_of(item.stem))
        key, distractors = key_and_distractors(item)
        vr = dictionary_VR(tag)
        assert " or " not in vr and vr != "SQ"
        assert key == f"{vr} ({VR_TABLE[vr][0]})", item.id
        assert all(d.split()[0] != vr and d.split()[0] in VR_TABLE for d in distractors)
        assert {r.section for r in item.references} == {"Table 6-1", "Table 6.2-1"}
        assert {r.standard for r in item.references} == {"DICOM PS3.6", "DICOM PS3.5"}


def test_transfer_syntax_items_match_the_uid_registry(items):
    for item in (i for i in items if i.id.startswith("gen-ts-name-")):
        uid = uid_of(item.stem)
        key, distractors = key_and_distractors(item)
        assert UID_dictionary[uid][:2] == (key, "Transfer Syntax") and UID_dictionary[uid][3] == ""
        assert all(uid_named(d, "Transfer Syntax") != uid for d in distractors)
    for item in (i for i in items if i.id.startswith("gen-ts-uid-")):
        name = name_in_bold(item.stem)
        key, distractors = key_and_distractors(item)
        assert uid_of(key) == uid_named(name, "Transfer Syntax")
        for d in distractors:
            assert uid_of(d) != uid_of(key) and UID_dictionary[uid_of(d)][1] == "Transfer Syntax"


def test_sop_class_items_match_the_uid_registry(items):
    for item in (i for i in items if i.id.startswith("gen-sop-uid-")):
        name = name_in_bold(item.stem)
        key, distractors = key_and_distractors(item)
        uid = uid_named(name, "SOP Class")
        assert uid_of(key) == uid and UID_dictionary[uid][3] == ""
        assert item.id == "gen-sop-uid-" + uid.replace(".", "-")
        for d in distractors:
            assert uid_of(d) != uid and UID_dictionary[uid_of(d)][1] == "SOP Class"


def test_items_are_marked_generated_cite_the_standard_and_explain_every_option(items):
    for item in items:
        assert item.generated and item.id.startswith("gen-") and item.type == "single" and len(item.options) == 4
        assert item.rationale and all(o.rationale for o in item.options)
        assert any(r.standard == "DICOM PS3.6" and r.section in {"Table 6-1", "Table A-1"} for r in item.references)
        tracks = {(d.track, d.domain) for d in item.domains}
        assert ("CIIP", "image-management") in tracks
        assert tracks & {("CDIP", "data-model"), ("CDIP", "encoding")}
        assert len({o.text for o in item.options}) == 4


def test_generated_items_pass_the_linter(items):
    assert [f for i in items for f in lint_item(i)] == []
    assert lint_bank(items).findings == []


def test_the_same_seed_gives_the_same_items_and_another_seed_others(items):
    again = generate_items(count=240, seed=2026)
    assert [i.model_dump() for i in again] == [i.model_dump() for i in items]
    other = generate_items(count=240, seed=7)
    assert {i.id for i in other} != {i.id for i in items}
    shared = {i.id: i for i in items}.keys() & {i.id for i in other}
    by_id = {i.id: i for i in other}
    for item in items:  # an item about the same subject is the same item whatever the seed
        if item.id in shared:
            assert by_id[item.id].model_dump() == item.model_dump()


def test_a_subject_is_never_asked_both_ways(items):
    subjects = Counter(
        (FAMILIES[f].inverse or f, s) for f, s in map(family_subject, (i.id for i in items)) if FAMILIES[f].inverse
    )
    pairs = {frozenset((f, FAMILIES[f].inverse)) for f in FAMILIES if FAMILIES[f].inverse}
    for pair in pairs:
        a, b = sorted(pair)
        ids_a = {family_subject(i.id)[1] for i in items if family_subject(i.id)[0] == a}
        ids_b = {family_subject(i.id)[1] for i in items if family_subject(i.id)[0] == b}
        assert not ids_a & ids_b
    assert subjects  # the check above ran on something
    taken = [f"gen-tag-{tag_named('PatientName'):08x}"]
    for seed in range(5):
        assert all(
            i.id != f"gen-attribute-{tag_named('PatientName'):08x}"
            for i in generate_items(count=200, seed=seed, families=["attribute"], existing_ids=taken)
        )


def test_bad_requests_are_refused():
    with pytest.raises(GeneratorError, match="unknown family"):
        generate_items(count=3, seed=1, families=["colour"])
    with pytest.raises(GeneratorError, match="at least 1"):
        generate_items(count=0, seed=1)


@pytest.mark.django_db
def test_generated_items_import_through_the_normal_service_and_rerunning_changes_nothing(tracks):
    items, report = bank_generate(count=12, seed=5)
    assert len(report.created) == 12 and Item.objects.filter(generated=True).count() == 12
    assert Item.objects.filter(status=ItemStatus.PUBLISHED).count() == 12
    _, again = bank_generate(count=12, seed=5)
    assert len(again.unchanged) == 12 and not again.created
    stored = Item.objects.get(external_id=items[0].id)
    assert item_to_schema(stored).options == items[0].options
    assert {i.external_id for i in items_search(origin="generated")} == {i.id for i in items}
    _, dry = bank_generate(count=20, seed=6, dry_run=True)
    assert dry.dry_run and Item.objects.count() == 12


@pytest.mark.django_db
def test_the_generator_never_overwrites_an_authored_item(tracks):
    planned = generate_items(count=6, seed=9)
    authored = planned[2].model_copy(update={"generated": False, "stem": "An authored item that took this id."})
    bank_import(items=[authored])
    with pytest.raises(ImportFailed) as exc:
        bank_generate(count=6, seed=9)
    assert "never overwrites" in str(exc.value.problems[0])
    assert Item.objects.count() == 1
    assert item_to_schema(Item.objects.get()).stem == "An authored item that took this id."


@pytest.mark.django_db
def test_an_authored_item_with_the_same_question_is_not_duplicated(tracks):
    planned = generate_items(count=6, seed=11, families=["vr"])
    twin = planned[0].model_copy(update={"id": "authored-vr-1", "generated": False})
    bank_import(items=[twin])
    items, _ = bank_generate(count=6, seed=11, families=["vr"])
    assert planned[0].id not in {i.id for i in items}
    assert len(items) == 6


@pytest.mark.django_db
def test_the_bank_generate_command(tracks, capsys):
    call_command("bank_generate", "--count", "8", "--seed", "3", "--family", "vr", "--family", "ts-name", "--dry-run")
    assert "generated 8 items; would import 8 items: 8 new" in capsys.readouterr().out
    assert not Item.objects.exists()
    call_command("bank_generate", "--count", "8", "--seed", "3", "--status", "draft")
    assert Item.objects.filter(status=ItemStatus.DRAFT, generated=True).count() == 8
    with pytest.raises(CommandError):
        call_command("bank_generate", "--count", "2", "--seed", "3", "--family", "colour")


@pytest.mark.django_db
def test_an_instructor_editing_a_generated_item_makes_it_authored_and_safe_from_the_generator(tracks, instructor):
    from trainer.bank.services import item_update

    items, _ = bank_generate(count=3, seed=4, families=["sop-uid"])
    item = Item.objects.get(external_id=items[0].id)
    edited = items[0].model_copy(update={"rationale": items[0].rationale + " Storage SCPs list it in conformance."})
    item_update(item=item, data=edited, by=instructor)
    item.refresh_from_db()
    assert not item.generated
    assert "now an authored item" in item.events.get(action="edited").notes
    again, _ = bank_generate(count=3, seed=4, families=["sop-uid"])  # same question now authored: skipped
    assert item.external_id not in {i.id for i in again} and len(again) == 3
    assert "Storage SCPs" in item_to_schema(Item.objects.get(pk=item.pk)).rationale
    assert not Item.objects.get(pk=item.pk).generated

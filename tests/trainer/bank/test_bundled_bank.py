"""The bank that ships: enough items per exam, lint-clean, two disjoint forms per blueprint, docs current."""

import random
from collections import Counter

import pytest
import yaml

from trainer.bank.linter import lint_bank
from trainer.bank.models import Blueprint
from trainer.bank.services import FIXTURES, blueprints_read, bundled_bank_items

ITEMS = bundled_bank_items()
PUBLISHED = [i for i in ITEMS if i.status == "published" and not i.generated]


def test_the_bundled_bank_is_lint_clean_with_balanced_keys():
    report = lint_bank(ITEMS, [(bp["code"], bp["track"], bp["domains"]) for bp in blueprints_read()])
    assert [str(f) for f in report.errors] == []
    assert all(0.20 <= share <= 0.30 for share in report.key_positions.values()), report.key_positions


def test_the_bank_meets_the_content_floor_per_track_and_domain():
    assert len(PUBLISHED) >= 600
    per_track: dict[str, set[str]] = {}
    ciip: Counter[str] = Counter()
    for item in PUBLISHED:
        for d in item.domains:
            per_track.setdefault(d.track, set()).add(item.id)
            if d.track == "CIIP":
                ciip[d.domain] += 1
    tracks = yaml.safe_load((FIXTURES / "tracks.yaml").read_text())["tracks"]
    ciip_domains = next(t for t in tracks if t["code"] == "CIIP")["domains"]
    assert all(ciip[d["code"]] >= 30 for d in ciip_domains), ciip
    floors = {"CPAS-T": 60, "CPAS-C": 60, "CDIP": 100, "CPSA": 80}
    assert all(len(per_track[t]) >= n for t, n in floors.items()), {t: len(per_track[t]) for t in floors}


def test_most_items_are_exam_like_and_many_test_application():
    types = Counter(i.type.value for i in PUBLISHED)
    levels = Counter(i.level.value for i in PUBLISHED)
    assert types["single"] / len(PUBLISHED) > 0.6
    assert types["truefalse"] / len(PUBLISHED) <= 0.10
    assert (levels["application"] + levels["analysis"]) / len(PUBLISHED) >= 0.40
    assert all(any(e.action == "reviewed" and e.blind_answer is not None for e in i.history) for i in PUBLISHED)


@pytest.mark.django_db
def test_every_blueprint_fills_two_mock_exam_forms_that_share_no_item():
    from trainer.bank.services import bank_import, blueprints_load, tracks_load
    from trainer.exams.assembly import assemble_form

    tracks_load()
    blueprints_load()
    bank_import(items=ITEMS)
    for blueprint in Blueprint.objects.prefetch_related("domain_counts"):
        for seed in range(10):  # whatever the draw: items cross-mapped to a scarce domain are not spent elsewhere
            first = {s.item_id for s in assemble_form(blueprint=blueprint, seen=set(), rng=random.Random(seed))}
            second = {s.item_id for s in assemble_form(blueprint=blueprint, seen=first, rng=random.Random(-seed))}
            assert len(first) == blueprint.scored_items + blueprint.pilot_items
            assert not first & second, f"{blueprint.code}, seed {seed}: the second form reuses {first & second}"


def test_docs_content_md_is_current():
    from trainer.bank.reporting import content_report

    tracks = {
        t["code"]: [(d["code"], d["name"]) for d in t["domains"]]
        for t in yaml.safe_load((FIXTURES / "tracks.yaml").read_text())["tracks"]
    }
    lint = lint_bank(ITEMS, [(bp["code"], bp["track"], bp["domains"]) for bp in blueprints_read()])
    expected = content_report(ITEMS, lint, tracks) + "\n"
    assert (FIXTURES.parent / "docs" / "CONTENT.md").read_text() == expected, "run: python3 manage.py bank_report"


@pytest.mark.django_db
def test_every_published_items_key_scores_right_and_a_wrong_response_scores_wrong():
    """The key as the scorer reads it: the response the key describes is accepted and scores correct, and a
    distractor's response scores wrong, for every bundled item of every type."""
    from trainer.bank.models import Item
    from trainer.bank.scoring import key_response, normalise_response, score_response, wrong_response
    from trainer.bank.services import bank_import, tracks_load

    tracks_load()
    bank_import(items=ITEMS)
    items = Item.objects.filter(status="published").select_related("current_version")
    assert items.count() >= len(PUBLISHED)
    for item in items:
        version = item.current_version
        assert version is not None, item.external_id
        for pick in range(3):
            right = normalise_response(version, item.type, key_response(version, item.type))
            wrong = normalise_response(version, item.type, wrong_response(version, item.type, pick=pick))
            assert score_response(version, item.type, right).correct, item.external_id
            assert not score_response(version, item.type, wrong).correct, (item.external_id, wrong)

"""Item statistics against values computed by hand (worked in the comments)."""

import math

import pytest

from trainer.courses.analysis import Answer, ItemKey, analyse_form, analyse_items

# Five examinees, three 0/1 items. Totals 3, 2, 2, 1, 0: mean 1.6, population variance 5.2/5 = 1.04.
MATRIX = [[1, 1, 1], [1, 1, 0], [1, 0, 1], [0, 1, 0], [0, 0, 0]]
CHOICES = ["b", "b", "b", "a", "c"]  # item 1 (key b): who chose what


def examinees():
    return [
        {
            1: Answer(row[0], CHOICES[i]),
            2: Answer(row[1]),
            3: Answer(row[2]),
        }
        for i, row in enumerate(MATRIX)
    ]


def test_kr20_alpha_and_sem_match_the_hand_computation():
    stats = analyse_form(MATRIX)
    # p = .6, .6, .4 → Σpq = 3 × .24 = .72; KR-20 = 3/2 × (1 − .72/1.04) = 0.461538…
    assert stats.kr20 == pytest.approx(0.4615385, abs=1e-6)
    assert stats.alpha == pytest.approx(stats.kr20)
    # SEM = √1.04 × √(1 − .461538) = √(1.04 × .538462) = √.56
    assert stats.sem == pytest.approx(math.sqrt(0.56), abs=1e-6)
    assert stats.mean == pytest.approx(1.6)
    assert stats.sd == pytest.approx(math.sqrt(1.04))


def test_facility_discrimination_and_corrected_point_biserial():
    item1, item2, item3 = analyse_items(examinees(), [ItemKey(1, "abcd", "b"), ItemKey(2), ItemKey(3)])
    assert item1.facility == pytest.approx(0.6)
    assert item3.facility == pytest.approx(0.4)
    # 27% of 5 rounds to 1: upper group = the examinee with 3, lower = the one with 0.
    assert item1.discrimination == pytest.approx(1.0)
    assert item2.discrimination == pytest.approx(1.0)
    # item 1 vs rest score [2,1,1,1,0]: cov .2 / (√.24 × √.4) = 0.645497
    assert item1.point_biserial == pytest.approx(0.645497, abs=1e-6)


def test_distractor_choice_rates_and_the_implausible_distractor_flag():
    (item1,) = analyse_items(examinees(), [ItemKey(1, "abcd", "b")])
    assert {k: v["all"] for k, v in item1.options.items()} == {"a": 0.2, "b": 0.6, "c": 0.2, "d": 0.0}
    assert item1.options["c"]["lower"] == 1.0 and item1.options["b"]["upper"] == 1.0
    assert any("distractor D chosen by 0%" in f for f in item1.flags)
    assert not any("distractor A" in f for f in item1.flags)


def test_a_miskeyed_item_is_flagged_for_negative_discrimination():
    people = examinees()
    for i, e in enumerate(people):  # item 9: only the weakest two get it "right"
        e[9] = Answer(1.0 if i >= 3 else 0.0)
    (item9,) = analyse_items(people, [ItemKey(9)])
    assert item9.discrimination is not None and item9.discrimination < 0
    assert any("negative discrimination" in f for f in item9.flags)


def test_very_easy_and_very_hard_items_are_flagged():
    people = [{1: Answer(1.0), 2: Answer(0.0)} for _ in range(20)]
    people[0][2] = Answer(1.0)
    easy, hard = analyse_items(people, [ItemKey(1), ItemKey(2)])
    assert any("very easy" in f for f in easy.flags)
    assert any("very hard" in f for f in hard.flags)


def test_reliability_is_undefined_without_variance():
    assert analyse_form([[1, 1], [1, 1]]).alpha is None


def test_items_answered_by_fewer_than_five_examinees_are_not_flagged():
    """With forms assembled per learner an item may reach two or three examinees: one answer swings every
    statistic, so "very hard: check the key" would be noise."""
    few = [{1: Answer(0.0, "a"), 2: Answer(1.0, "b")} for _ in range(4)]
    hard, easy = analyse_items(few, [ItemKey(1, "abcd", "b"), ItemKey(2, "abcd", "b")])
    assert hard.facility == 0.0 and easy.facility == 1.0
    assert hard.flags == [] and easy.flags == []
    (flagged,) = analyse_items([*few, {1: Answer(0.0, "a")}], [ItemKey(1, "abcd", "b")])
    assert any("very hard" in f for f in flagged.flags)

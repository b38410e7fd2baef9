"""Classical item analysis (pure, no database): facility, discrimination, distractors, reliability.

Definitions follow the standard textbook forms (e.g. Crocker & Algina, *Introduction to Classical and Modern Test
Theory*, ch. 14 and 7):

- facility p: the mean item score (proportion right for 0/1 items);
- upper/lower discrimination index D = p(upper 27%) − p(lower 27%), groups formed on the total score;
- corrected point-biserial: Pearson correlation of the item score with the total score *without that item*;
- KR-20 = k/(k−1) · (1 − Σ p·q / σ²ₓ); Cronbach's α = k/(k−1) · (1 − Σ σ²ᵢ / σ²ₓ) (equal to KR-20 for 0/1
  items); population variances throughout;
- SEM = σₓ · √(1 − α).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

GROUP_FRACTION = 0.27
FLAG_EASY = 0.95
FLAG_HARD = 0.20
FLAG_DISTRACTOR = 0.05
FLAG_MIN_RESPONSES = 5  # below this, one answer more or less swings every statistic: no flags


@dataclass(frozen=True)
class Answer:
    score: float  # 0..1
    choice: str | None = None  # option key chosen (single-answer items), for distractor analysis


@dataclass(frozen=True)
class ItemKey:
    item_id: int
    options: Sequence[str] = ()  # option keys, in order
    keys: Sequence[str] = ()  # correct option keys


@dataclass
class ItemStats:
    item_id: int
    n: int
    facility: float
    discrimination: float | None
    point_biserial: float | None
    options: dict[str, dict[str, float]] = field(default_factory=dict)  # key → {all, upper, lower}
    flags: list[str] = field(default_factory=list)


@dataclass
class FormStats:
    examinees: int
    items: int
    mean: float
    sd: float
    kr20: float | None
    alpha: float | None
    sem: float | None


def _pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    if len(x) < 2 or np.std(x) == 0 or np.std(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def _groups(totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indexes of the lower and upper 27% by total score (at least one examinee each; ties by order)."""
    n = len(totals)
    size = max(1, round(GROUP_FRACTION * n))
    order = np.argsort(totals, kind="stable")
    return order[:size], order[n - size :]


def analyse_items(
    examinees: Sequence[dict[int, Answer]], keys: Sequence[ItemKey], *, totals: Sequence[float] | None = None
) -> list[ItemStats]:
    """Per-item statistics. ``totals`` defaults to the sum of each examinee's item scores; forms assembled at
    random per learner pass percent scores instead, and each item is analysed over the examinees who saw it."""
    total_arr = np.array(
        totals if totals is not None else [sum(a.score for a in e.values()) for e in examinees], dtype=float
    )
    out = []
    for key in keys:
        idx = np.array([i for i, e in enumerate(examinees) if key.item_id in e], dtype=int)
        if len(idx) == 0:
            out.append(ItemStats(key.item_id, 0, math.nan, None, None))
            continue
        scores = np.array([examinees[i][key.item_id].score for i in idx], dtype=float)
        tot = total_arr[idx]
        lower, upper = _groups(tot)
        d = float(scores[upper].mean() - scores[lower].mean()) if len(idx) >= 2 else None
        rest = tot - scores if totals is None else tot
        stats = ItemStats(key.item_id, len(idx), float(scores.mean()), d, _pearson(scores, rest))
        choices = [examinees[i][key.item_id].choice for i in idx]
        for opt in key.options:
            picked = np.array([c == opt for c in choices], dtype=float)
            stats.options[opt] = {
                "all": float(picked.mean()),
                "upper": float(picked[upper].mean()),
                "lower": float(picked[lower].mean()),
            }
        stats.flags = _flags(stats, key)
        out.append(stats)
    return out


def _flags(stats: ItemStats, key: ItemKey) -> list[str]:
    if stats.n < FLAG_MIN_RESPONSES:
        return []
    flags = []
    if (stats.discrimination is not None and stats.discrimination < 0) or (
        stats.point_biserial is not None and stats.point_biserial < 0
    ):
        flags.append("negative discrimination: stronger examinees did worse on this item (check the key)")
    if stats.facility > FLAG_EASY:
        flags.append(f"very easy (facility {stats.facility:.2f} > {FLAG_EASY})")
    if stats.facility < FLAG_HARD:
        flags.append(f"very hard (facility {stats.facility:.2f} < {FLAG_HARD}): check the key and wording")
    for opt, rates in stats.options.items():
        if opt not in key.keys and rates["all"] < FLAG_DISTRACTOR:
            flags.append(f"distractor {opt.upper()} chosen by {rates['all']:.0%}: not plausible")
    return flags


def analyse_form(matrix: Sequence[Sequence[float]]) -> FormStats:
    """Reliability of a fixed form: rows are examinees, columns items (every examinee answered every item)."""
    x = np.array(matrix, dtype=float)
    n, k = x.shape if x.ndim == 2 else (0, 0)
    if n == 0 or k == 0:
        return FormStats(n, k, math.nan, math.nan, None, None, None)
    totals = x.sum(axis=1)
    var_total = float(totals.var())
    mean, sd = float(totals.mean()), math.sqrt(var_total)
    if k < 2 or var_total == 0:
        return FormStats(n, k, mean, sd, None, None, None)
    p = x.mean(axis=0)
    dichotomous = bool(np.isin(x, (0.0, 1.0)).all())
    kr20 = k / (k - 1) * (1 - float((p * (1 - p)).sum()) / var_total) if dichotomous else None
    alpha = k / (k - 1) * (1 - float(x.var(axis=0).sum()) / var_total)
    sem = sd * math.sqrt(max(0.0, 1 - alpha))
    return FormStats(n, k, mean, sd, kr20, alpha, sem)

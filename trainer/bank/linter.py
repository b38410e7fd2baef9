"""Item-writing linter, after published item-writing guidance (one best answer, homogeneous options, no cues
to the key, no "all/none of the above", negatives emphasised), plus bank-level checks: key-position balance,
near-duplicate stems, and whether the published items cover every blueprint."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from rapidfuzz import fuzz, process

from trainer.bank.models import ItemStatus, ItemType
from trainer.bank.schema import ItemIn

Severity = Literal["error", "warning"]

ALL_NONE = re.compile(r"\b(all|none|both|neither) of the (above|options|answers)\b", re.I)
NEGATIVE = re.compile(
    r"\b(which|what)\b(?:\W+\w+){0,4}?\W+(?:is|are|was|were|does|do|did|would|should|could|will|can|has|have)\s+not\b"
    r"|\bexcept\b|\bleast\b(?!\s+privilege)",
    re.I,
)
EMPHASISED_NEGATIVE = re.compile(r"\*\*(NOT|EXCEPT|LEAST|INCORRECT|FALSE)\*\*")
PARENTHETICAL = re.compile(r"\([^)]*\)")
ABSOLUTE = re.compile(r"\b(always|never|only|all|none|every|must|cannot|impossible|guarantees?)\b", re.I)
CODE_BLOCK = re.compile(r"```.*?```", re.S)
KEY_BALANCE = (0.20, 0.30)
NEAR_DUPLICATE_SCORE = 90.0
KEY_LONGEST_RATIO = 1.25


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    item: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _question_sentence(stem: str) -> str:
    """The sentence that asks: the last paragraph outside code blocks."""
    text = CODE_BLOCK.sub(" ", stem).strip()
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    return paragraphs[-1] if paragraphs else text


def lint_item(item: ItemIn) -> list[Finding]:
    found: list[Finding] = []

    def add(rule: str, severity: Severity, message: str) -> None:
        found.append(Finding(rule, severity, message, item.id))

    if not item.rationale.strip():
        add("missing-rationale", "error", "the item has no rationale for its key")
    for i, opt in enumerate(item.options):
        if not opt.rationale.strip():
            add("missing-rationale", "error", f"option {chr(65 + i)} ({opt.text[:40]!r}) has no rationale")
    for pair in item.pairs:
        if not pair.rationale.strip():
            add("missing-rationale", "error", f"pair {pair.prompt[:40]!r} has no rationale")
    if not item.references:
        add("missing-reference", "error", "cite at least one standard or guideline with its section")
    elif not any(r.section.strip() for r in item.references):
        add("missing-reference", "warning", "no reference names a section")
    if item.type == ItemType.SINGLE and len(item.options) != 4:
        add("option-count", "error", f"single-answer items have 4 options, this one has {len(item.options)}")
    if item.type == ItemType.MULTIPLE and not 4 <= len(item.options) <= 6:
        add("option-count", "error", f"multiple-response items have 4-6 options, this one has {len(item.options)}")
    normalised = [re.sub(r"\s+", " ", o.text.lower()).strip() for o in item.options]
    if len(set(normalised)) != len(normalised):
        add("duplicate-options", "error", "two options say the same thing")
    if any(ALL_NONE.search(o.text) for o in item.options) or ALL_NONE.search(item.stem):
        add("all-none-of-the-above", "error", "avoid 'all of the above' / 'none of the above'")
    # A negative stem asks for the exception ("Which is NOT …", "… EXCEPT", "LEAST likely"); a negation inside
    # the scenario, in a parenthesis, or in a true/false statement is not one.
    sentences = re.split(r"(?<=[.!?])\s+", PARENTHETICAL.sub(" ", _question_sentence(item.stem)).strip())
    question = sentences[-1] if sentences else ""
    asks_for_exception = item.type in {ItemType.SINGLE, ItemType.MULTIPLE} and NEGATIVE.search(question)
    if asks_for_exception and not EMPHASISED_NEGATIVE.search(question):
        add("negative-stem", "error", "a negative stem must emphasise the negative word in bold capitals, e.g. **NOT**")
    if item.type in {ItemType.SINGLE, ItemType.MULTIPLE}:
        keys = [o for o in item.options if o.correct]
        distractors = [o for o in item.options if not o.correct]
        if any(ABSOLUTE.search(o.text) for o in distractors) and not any(ABSOLUTE.search(o.text) for o in keys):
            add("absolute-words", "warning", "absolute words (always, never, only …) appear only in distractors")
        if item.type == ItemType.SINGLE and keys and distractors:
            longest_other = max(len(o.text) for o in distractors)
            if len(keys[0].text) >= KEY_LONGEST_RATIO * longest_other and len(keys[0].text) - longest_other > 15:
                add("key-longest", "warning", "the key is clearly the longest option: a cue to test-wise learners")
    if item.type == ItemType.NUMERIC:
        if item.tolerance is None:
            add("numeric-tolerance", "warning", "give a tolerance so that rounding does not mark a right answer wrong")
        if item.unit is None:
            add("numeric-unit", "warning", "state the unit (an empty string if the answer has none)")
    if not item.domains:
        add("no-domain", "error", "the item counts toward no exam domain")
    return found


def key_position_balance(items: Sequence[ItemIn]) -> tuple[dict[str, float], list[Finding]]:
    four = [i for i in items if i.type == ItemType.SINGLE and len(i.options) == 4]
    if not four:
        return {}, []
    counts = Counter("ABCD"[[o.correct for o in i.options].index(True)] for i in four)
    shares = {pos: counts.get(pos, 0) / len(four) for pos in "ABCD"}
    low, high = KEY_BALANCE
    findings = [
        Finding(
            "key-position-balance",
            "error",
            f"the key is at {pos} in {share:.0%} of {len(four)} four-option items (keep each position within "
            f"{low:.0%}-{high:.0%})",
        )
        for pos, share in shares.items()
        if not low <= share <= high and len(four) >= 20
    ]
    return shares, findings


def key_longest_share(items: Sequence[ItemIn]) -> tuple[float, list[Finding]]:
    singles = [i for i in items if i.type == ItemType.SINGLE and len(i.options) >= 2]
    if not singles:
        return 0.0, []
    longest = 0
    for i in singles:
        lengths = [len(o.text) for o in i.options]
        key = [o.correct for o in i.options].index(True)
        longest += lengths[key] == max(lengths) and lengths.count(max(lengths)) == 1
    share = longest / len(singles)
    findings = []
    if share > 0.4 and len(singles) >= 20:
        findings.append(
            Finding("key-longest", "error", f"the key is the longest option in {share:.0%} of single-answer items")
        )
    return share, findings


def _comparable_stem(stem: str) -> str:
    return re.sub(r"\s+", " ", CODE_BLOCK.sub(" ", stem)).strip().lower()


def near_duplicate_stems(items: Sequence[ItemIn], *, threshold: float = NEAR_DUPLICATE_SCORE) -> list[Finding]:
    stems = [_comparable_stem(i.stem) for i in items]
    if len(stems) < 2:
        return []
    scores = process.cdist(stems, stems, scorer=fuzz.token_sort_ratio, score_cutoff=threshold, workers=-1)
    findings = []
    for a in range(len(items)):
        for b in range(a + 1, len(items)):
            # Generated items of one family share a template by design (and never repeat a subject).
            parallel = items[a].generated and items[b].generated
            if scores[a][b] >= threshold and items[a].type == items[b].type and not parallel:
                findings.append(
                    Finding(
                        "near-duplicate-stem",
                        "error",
                        f"stem is {scores[a][b]:.0f}% similar to {items[b].id}",
                        items[a].id,
                    )
                )
    return findings


def blueprint_coverage(items: Sequence[ItemIn], blueprints: Iterable[tuple[str, str, dict[str, int]]]) -> list[Finding]:
    """Each blueprint (code, track, {domain: count}) must be fillable from published items, twice over without
    sharing an item (two disjoint forms); one form short is an error, two forms short a warning."""
    published: Counter[tuple[str, str]] = Counter()
    for item in items:
        if item.status == ItemStatus.PUBLISHED:
            for d in item.domains:
                published[(d.track, d.domain)] += 1
    findings = []
    for code, track, counts in blueprints:
        for domain, need in counts.items():
            have = published[(track, domain)]
            if have < need:
                findings.append(
                    Finding(
                        "blueprint-coverage",
                        "error",
                        f"{code}: {track}/{domain} has {have} published items, a form needs {need}",
                    )
                )
            elif have < 2 * need:
                findings.append(
                    Finding(
                        "blueprint-coverage",
                        "warning",
                        f"{code}: {track}/{domain} has {have} published items, two disjoint forms need {2 * need}",
                    )
                )
    return findings


@dataclass
class LintReport:
    findings: list[Finding]
    key_positions: dict[str, float]
    key_longest_share: float
    items: int

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "key_positions": {k: round(v, 3) for k, v in self.key_positions.items()},
            "key_longest_share": round(self.key_longest_share, 3),
            "by_rule": dict(Counter(f.rule for f in self.findings)),
            "findings": [f.as_dict() for f in self.findings],
        }


def lint_bank(items: Sequence[ItemIn], blueprints: Iterable[tuple[str, str, dict[str, int]]] = ()) -> LintReport:
    live = [i for i in items if i.status != ItemStatus.RETIRED]
    findings = [f for item in live for f in lint_item(item)]
    authored = [i for i in live if not i.generated]
    shares, balance = key_position_balance(authored)
    longest, longest_findings = key_longest_share(authored)
    findings += balance + longest_findings + near_duplicate_stems(live) + blueprint_coverage(live, blueprints)
    return LintReport(findings=findings, key_positions=shares, key_longest_share=longest, items=len(live))

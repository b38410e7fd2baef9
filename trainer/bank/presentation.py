"""How an item version is shown to a learner, and what they may see after answering.

``learner_view`` is the ONLY way item content reaches a learner before their answer is recorded: it carries
no correct flags, no rationale, no key. ``feedback_view`` adds them and must only be called once the platform
has recorded the answer (tutor mode) or the attempt is submitted (exam mode).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import markdown
import nh3

from trainer.bank.models import ItemType, ItemVersion

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td",
    "blockquote", "h3", "h4", "sub", "sup", "hr", "span",
}  # fmt: skip


@lru_cache(maxsize=4096)
def render_markdown(text: str) -> str:
    """Markdown → sanitised HTML (no links out, no images from elsewhere, no script)."""
    html = markdown.markdown(text, extensions=["fenced_code", "tables", "sane_lists"])
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes={"code": {"class"}, "span": {"class"}})


@dataclass(frozen=True)
class Choice:
    key: str
    html: str


@dataclass(frozen=True)
class MediaView:
    """One exhibit shown with the stem: an image (``url``), a DICOM object rendered as an image (``url`` of its
    PNG) or as a tag dump (``dump``, preformatted text); ``error`` when a DICOM object cannot be shown."""

    url: str
    alt: str
    kind: str = "image"  # image | dicom-image | dump
    dump: str = ""
    error: str = ""


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")


def media_views(version: ItemVersion) -> tuple[MediaView, ...]:
    """The item's exhibits, in order: images, DICOM objects as a PNG of their first frame (``bank-media-dicom``,
    rendered by ``imaging.render_png``) or as a tag dump (``imaging.tag_dump``)."""
    from django.urls import reverse

    from trainer.bank.selectors import DICOM_SUFFIX, dicom_exhibit_dump

    views = []
    for m in version.media:
        name, alt = str(m.get("file", "")), m.get("alt") or ""
        if name.lower().endswith(IMAGE_SUFFIXES):
            views.append(MediaView(reverse("bank-media", args=[name]), alt))
        elif name.endswith(DICOM_SUFFIX) and m.get("render") == "dump":
            try:
                views.append(MediaView(reverse("bank-media", args=[name]), alt, "dump", dicom_exhibit_dump(name)))
            except Exception:  # a missing or damaged exhibit: say so where it would be, never fail the page
                views.append(MediaView("", alt, "dump", error=f"The DICOM exhibit {name} cannot be shown."))
        elif name.endswith(DICOM_SUFFIX):
            views.append(MediaView(reverse("bank-media-dicom", args=[name]), alt or "DICOM image", "dicom-image"))
    return tuple(views)


@dataclass(frozen=True)
class LearnerItem:
    """What a learner sees before answering. Deliberately has no field that could hold a key or rationale."""

    version_id: int
    type: str
    type_label: str
    stem_html: str
    choices: list[Choice]  # options (single/multiple/truefalse/ordering) or matching answers
    prompts: list[Choice]  # matching prompts
    unit: str
    select_count: int  # multiple response: how many to choose (0 = "all that apply")
    media: tuple[MediaView, ...] = ()


def learner_view(version: ItemVersion, *, item_type: str, seed: int | str) -> LearnerItem:
    """Options keep their authored order (key positions are balanced by the linter) except ordering and
    matching, which are shuffled deterministically per seed so a refresh shows the same layout."""
    rng = random.Random(f"{version.pk}:{seed}")  # noqa: S311 - layout shuffling, not security
    choices = [Choice(o["key"], render_markdown(o["text"])) for o in version.options]
    prompts: list[Choice] = []
    if item_type == ItemType.ORDERING:
        rng.shuffle(choices)
    if item_type == ItemType.MATCHING:
        prompts = [Choice(p["key"], render_markdown(p["prompt"])) for p in version.pairs]
        choices = [Choice(p["key"], render_markdown(p["answer"])) for p in version.pairs]
        rng.shuffle(choices)
    select = sum(o["correct"] for o in version.options) if item_type == ItemType.MULTIPLE else 0
    return LearnerItem(
        version_id=version.pk,
        type=item_type,
        type_label=ItemType(item_type).label,
        stem_html=render_markdown(version.stem),
        choices=choices,
        prompts=prompts,
        unit=version.unit,
        select_count=select,
        media=media_views(version),
    )


@dataclass(frozen=True)
class OptionFeedback:
    key: str
    html: str
    correct: bool
    chosen: bool
    rationale_html: str


@dataclass(frozen=True)
class Feedback:
    correct: bool
    score: float
    key_text: str
    rationale_html: str
    options: list[OptionFeedback]
    references: list[dict[str, str]]


def reference_label(ref: dict[str, Any]) -> str:
    """ "DICOM PS3.8 §9.3.4 (title)", with § only before a numbered section ("Annex K" stays as it is)."""
    section = str(ref.get("section") or "").strip()
    if re.match(r"^(\d|[A-Z]{1,2}\.\d)", section):  # "9.3.4", "A.4", "CC.1.1" — not "Annex K" or "Table 6-1"
        section = f"§{section}"
    title = f" ({ref['title']})" if ref.get("title") else ""
    return " ".join(p for p in (ref["standard"], section) if p) + title


def key_text(version: ItemVersion, item_type: str) -> str:
    if item_type == ItemType.NUMERIC:
        tol = f" ± {version.tolerance:g}" if version.tolerance else ""
        return f"{version.answer:g}{tol} {version.unit}".strip()
    if item_type == ItemType.ORDERING:
        return " → ".join(o["text"] for o in version.options)
    if item_type == ItemType.MATCHING:
        return "; ".join(f"{p['prompt']} → {p['answer']}" for p in version.pairs)
    return "; ".join(o["text"] for o in version.options if o["correct"])


def feedback_view(
    version: ItemVersion, *, item_type: str, response: dict[str, Any], correct: bool, score: float
) -> Feedback:
    chosen = set(response.get("choices") or ([response["choice"]] if response.get("choice") else []))
    if item_type == ItemType.MATCHING:
        options = [
            OptionFeedback(p["key"], render_markdown(f"{p['prompt']} → {p['answer']}"), True,
                           (response.get("pairs") or {}).get(p["key"]) == p["key"], render_markdown(p["rationale"]))
            for p in version.pairs
        ]  # fmt: skip
    else:
        options = [
            OptionFeedback(o["key"], render_markdown(o["text"]), bool(o["correct"]), o["key"] in chosen,
                           render_markdown(o["rationale"]))
            for o in version.options
        ]  # fmt: skip
    return Feedback(
        correct=correct,
        score=score,
        key_text=key_text(version, item_type),
        rationale_html=render_markdown(version.rationale),
        options=options,
        references=[{**{k: str(v) for k, v in r.items()}, "label": reference_label(r)} for r in version.references],
    )

"""The canonical in-memory form of an item, validated once for every format (native YAML, CSV, GIFT, Moodle XML,
QTI). Importers turn their input into ``ItemIn`` objects; problems come back with a location in the source."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from trainer.bank.models import CognitiveLevel, Difficulty, ItemStatus, ItemType

NATIVE_SCHEMA = "pacs-trainer-bank/1"
ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,79}$"

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OptionIn(_Strict):
    text: Text
    correct: bool = False
    rationale: str = ""


class PairIn(_Strict):
    prompt: Text
    answer: Text
    rationale: str = ""


class ReferenceIn(_Strict):
    standard: Text
    section: str = ""
    title: str = ""
    url: str = ""

    @field_validator("section", mode="before")
    @classmethod
    def _section_as_text(cls, value: Any) -> str:
        return "" if value is None else str(value)


class DomainRef(_Strict):
    track: Text
    domain: Text


class MediaIn(_Strict):
    """An exhibit under ``fixtures/media/`` (or uploaded): an image, or a DICOM object (``.dcm``) shown as an image
    (its first frame) or as a tag dump."""

    file: Text
    alt: str = ""
    render: Literal["image", "dump"] = "image"

    @model_validator(mode="after")
    def _dump_is_dicom(self) -> MediaIn:
        if self.render == "dump" and not self.file.lower().endswith(".dcm"):
            raise ValueError(f"{self.file}: only a DICOM object (.dcm) can be shown as a tag dump")
        return self

    @property
    def dicom(self) -> bool:
        return self.file.lower().endswith(".dcm")


class EventIn(_Strict):
    action: Literal[
        "drafted", "edited", "imported", "submitted", "reviewed", "published", "retired", "commented", "returned"
    ]
    by: str = ""
    date: datetime.date
    blind_answer: list[int] | int | float | str | None = None
    verdict: str = ""
    notes: str = ""


class ItemIn(_Strict):
    id: Annotated[str, StringConstraints(pattern=ID_PATTERN)]
    type: ItemType
    stem: Text
    options: list[OptionIn] = Field(default_factory=list)
    pairs: list[PairIn] = Field(default_factory=list)
    answer: float | None = None
    tolerance: float | None = None
    unit: str | None = None
    rationale: str = ""
    references: list[ReferenceIn] = Field(default_factory=list)
    domains: list[DomainRef] = Field(default_factory=list)
    tags: list[Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$")]] = Field(default_factory=list)
    difficulty: Difficulty = Difficulty.MEDIUM
    level: CognitiveLevel = CognitiveLevel.RECALL
    status: ItemStatus = ItemStatus.DRAFT
    generated: bool = False
    media: list[MediaIn] = Field(default_factory=list)
    history: list[EventIn] = Field(default_factory=list)

    @field_validator("tags")
    @classmethod
    def _tags_sorted_unique(cls, value: list[str]) -> list[str]:
        return sorted(set(value))

    @model_validator(mode="after")
    def _answer_fits_type(self) -> ItemIn:
        n_correct = sum(o.correct for o in self.options)
        t = self.type
        if t in {ItemType.SINGLE, ItemType.MULTIPLE, ItemType.TRUEFALSE, ItemType.ORDERING} and self.pairs:
            raise ValueError(f"a {t.value} item has options, not pairs")
        if t == ItemType.SINGLE and (len(self.options) < 2 or n_correct != 1):
            raise ValueError("a single-answer item needs at least 2 options and exactly one marked correct")
        if t == ItemType.MULTIPLE and (len(self.options) < 3 or n_correct < 2):
            raise ValueError("a multiple-response item needs at least 3 options and two or more marked correct")
        if t == ItemType.TRUEFALSE and ([o.text for o in self.options] != ["True", "False"] or n_correct != 1):
            raise ValueError("a true/false item has exactly the options True and False, one marked correct")
        if t == ItemType.ORDERING and (len(self.options) < 3 or n_correct):
            raise ValueError("an ordering item lists at least 3 options in the correct order, none marked correct")
        if t == ItemType.MATCHING and (len(self.pairs) < 2 or self.options):
            raise ValueError("a matching item needs at least 2 pairs and no options")
        if t == ItemType.NUMERIC:
            if self.answer is None or self.options or self.pairs:
                raise ValueError("a numeric item needs 'answer' (a number) and no options or pairs")
            if self.tolerance is not None and self.tolerance < 0:
                raise ValueError("tolerance must not be negative")
        elif self.answer is not None or self.tolerance is not None:
            raise ValueError(f"'answer' and 'tolerance' belong to numeric items, not {t.value}")
        texts = [re.sub(r"\s+", " ", o.text.lower()) for o in self.options]
        if len(set(texts)) != len(texts):
            raise ValueError("two options have the same text")
        return self


class BankFile(_Strict):
    schema_: Literal["pacs-trainer-bank/1"] = Field(alias="schema")
    items: list[ItemIn]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, with where it is (line, or element path) so an author can fix it."""

    where: str
    message: str
    line: int | None = None
    source: str = ""

    def __str__(self) -> str:
        place = ":".join(p for p in (self.source, f"line {self.line}" if self.line else "") if p)
        return f"{place}: {self.message}" if place else self.message


class ImportFailed(Exception):
    def __init__(self, problems: list[Problem], *, summary: str = "") -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems
        self.summary = summary or f"{len(problems)} problem(s); nothing was imported"

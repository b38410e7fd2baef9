"""The check registry: a check is a pure function of a :class:`CheckContext` and its parameters that returns an
:class:`Outcome` (pass/fail, evidence quoting the facts with the PS3 reference, a hint for a learner who failed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from labs.nodes.models import Node

if TYPE_CHECKING:
    from labs.scenarios.schema import LabSpec


@dataclass(frozen=True)
class CheckContext:
    node: Node
    since: datetime
    lab: LabSpec | None = None
    host: str = "127.0.0.1"
    answers: dict[str, str] = field(default_factory=dict)  # task key → the learner's typed answer


@dataclass(frozen=True)
class Outcome:
    """A check's verdict. ``hint`` is for a failure whose cause the check has diagnosed for certain (the right
    study from the wrong calling AE, say): it replaces the lab author's hint, which is written for the usual cause."""

    passed: bool
    evidence: str
    hint: str = ""
    facts: dict[str, Any] = field(default_factory=dict)


CheckFn = Callable[[CheckContext, dict[str, Any]], Outcome]
CATALOGUE: dict[str, CheckFn] = {}


def check(name: str) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        CATALOGUE[name] = fn
        return fn

    return register

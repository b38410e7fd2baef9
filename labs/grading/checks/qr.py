"""Checks on query/retrieve: C-MOVE and C-GET outcomes (PS3.4 Annex C)."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from pydicom.datadict import dictionary_VR, keyword_dict

from labs.dicom import scu
from labs.grading.checks.base import CheckContext, Outcome, check
from labs.nodes.models import DimseLog


@check("move_completed")
def move_completed(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """A C-MOVE to the node ended Success with at least ``min_completed`` sub-operations (PS3.4 §C.4.2)."""
    least = int(params.get("min_completed", 1))
    msgs = DimseLog.objects.filter(
        association__node=ctx.node, association__started_at__gte=ctx.since, command="C-MOVE"
    ).order_by("-association_id", "-seq")
    for msg in msgs[:20]:
        if msg.status == 0 and (msg.completed or 0) >= least and not msg.failed:
            return Outcome(
                True, f"C-MOVE #{msg.message_id} ended 0x0000 Success with {msg.completed} completed sub-operations."
            )
    last = msgs.first()
    if last:
        return Outcome(
            False,
            f"The last C-MOVE ended 0x{last.status or 0:04X} with {last.completed or 0} completed, "
            f"{last.failed or 0} failed sub-operations (PS3.4 §C.4.2.1.6).",
        )
    return Outcome(False, "No C-MOVE reached the node since you started.")


def _requests(ctx: CheckContext, command: str, calling: str | None) -> Any:
    msgs = DimseLog.objects.filter(
        association__node=ctx.node,
        association__direction="in",
        association__started_at__gte=ctx.since,
        command=command,
    )
    if calling:
        msgs = msgs.filter(association__calling_ae=calling)
    return msgs.order_by("-association_id", "-seq")


@check("get_completed")
def get_completed(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """A C-GET from ``calling_ae`` ended Success with at least ``min_completed`` sub-operations and none failed:
    the objects came back on the requester's own association (PS3.4 §C.4.3)."""
    least = int(params.get("min_completed", 1))
    msgs = _requests(ctx, "C-GET", params.get("calling_ae"))
    for msg in msgs[:20]:
        if msg.status == 0 and (msg.completed or 0) >= least and not msg.failed:
            return Outcome(
                True,
                f"C-GET #{msg.message_id} ended 0x0000 Success with {msg.completed} completed C-STORE sub-operations "
                "on the requester's association (PS3.4 §C.4.3.1.4).",
            )
    last = msgs.first()
    if last:
        return Outcome(
            False,
            f"The last C-GET ended 0x{last.status or 0:04X} with {last.completed or 0} completed and "
            f"{last.failed or 0} failed sub-operations (PS3.4 §C.4.3.1.4).",
        )
    return Outcome(False, "No C-GET reached the node since you started.")


@check("find_answered")
def find_answered(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """A C-FIND from ``calling_ae`` ended Success with at least ``min_matches`` pending responses (PS3.4 §C.4.1)."""
    least = int(params.get("min_matches", 1))
    msgs = _requests(ctx, "C-FIND", params.get("calling_ae"))
    best = None
    for msg in msgs[:50]:
        if msg.status == 0 and (best is None or msg.pending > best.pending):
            best = msg
    if best is not None and best.pending >= least:
        return Outcome(True, f"A C-FIND ended 0x0000 Success after {best.pending} matches (PS3.4 §C.4.1.1.4).")
    if best is not None:
        return Outcome(False, f"Your C-FIND queries returned at most {best.pending} match(es) (PS3.4 §C.4.1).")
    return Outcome(False, "No successful C-FIND reached the node since you started (PS3.4 §C.4.1).")


_DATE = re.compile(r"^(\d{4})[-/.](\d{2})[-/.](\d{2})$")


def _answer_values(text: str, attribute: str) -> set[str]:
    """The comma/space separated values of an answer, upper case; for a date attribute (VR DA) written as
    YYYY-MM-DD (or with / or .), in DICOM's YYYYMMDD form (PS3.5 §6.2)."""
    values = {part.strip().upper() for part in re.split(r"[,;\s]+", text) if part.strip()}
    if attribute in keyword_dict and dictionary_VR(keyword_dict[attribute]) == "DA":
        values = {_DATE.sub(r"\1\2\3", v) for v in values}
    return values


def _probe_find(ctx: CheckContext, params: dict[str, Any]) -> tuple[set[str] | None, str]:
    """Run the C-FIND of ``params`` (``level``, ``keys``, ``attribute``, ``model``) on the learner's node as
    ``probe_ae``; the set of returned ``attribute`` values (upper case), or None and the reason."""
    attribute = str(params["attribute"])
    keys = {str(k): str(v) for k, v in dict(params.get("keys", {})).items()}
    keys.setdefault(attribute, "")
    node = ctx.node
    result = scu.find(
        node_id=node.pk,
        calling_ae=str(params.get("probe_ae", "GRADER")),
        remote=scu.Remote(ae_title=node.ae_title, host=ctx.host, port=node.port),
        allowed=settings.NODE_ALLOWED_NETWORKS,
        level=str(params.get("level", "STUDY")),
        keys=keys,
        model=str(params.get("model", "study")),
    )
    if not result.ok:
        return None, f"The grader's C-FIND on your node did not succeed: {result.message}"
    return {m.get(attribute, "").strip().upper() for m in result.matches} - {""}, result.message


def _query_text(params: dict[str, Any]) -> str:
    keys = ", ".join(f"{k}={v}" for k, v in dict(params.get("keys", {})).items())
    return f"a {params.get('level', 'STUDY')}-level C-FIND with {keys or 'no keys'}"


@check("find_returns")
def find_returns(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """Active probe: a C-FIND on the node (``level``, ``keys``) returns ``count`` distinct values of
    ``attribute`` — what a viewer or another archive asking the node would see (PS3.4 §C.4.1)."""
    values, message = _probe_find(ctx, params)
    if values is None:
        return Outcome(False, message)
    want = int(params["count"])
    attribute = str(params["attribute"])
    text = f"{_query_text(params)} returns {len(values)} {attribute} value(s)"
    if len(values) == want:
        return Outcome(True, f"{text}, as expected (PS3.4 §C.4.1).")
    return Outcome(False, f"{text}; {want} expected (PS3.4 §C.4.1).")


@check("answer_matches_find")
def answer_matches_find(ctx: CheckContext, params: dict[str, Any]) -> Outcome:
    """The learner's answer to task ``task`` lists exactly the values of ``attribute`` that a C-FIND on the node
    returns at ``level`` with ``keys`` (run now, as calling AE ``probe_ae``; PS3.4 §C.4.1). The order of the
    values and case do not matter."""
    task = str(params["task"])
    answer = ctx.answers.get(task, "")
    if not answer:
        return Outcome(False, "No answer has been given to this question yet.")
    expected, message = _probe_find(ctx, params)
    if expected is None:
        return Outcome(False, message)
    given = _answer_values(answer, str(params["attribute"]))
    if given == expected:
        attribute = params["attribute"]
        query = _query_text(params)
        return Outcome(True, f"Your answer lists the {len(expected)} {attribute} value(s) {query} returns.")
    wrong = len(given - expected)
    return Outcome(
        False,
        f"Your answer '{answer}' gives {len(given)} value(s), {wrong} of them not returned by the right query, and "
        f"misses {len(expected - given)} (PS3.4 §C.4.1).",
    )

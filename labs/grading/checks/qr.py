"""Checks on query/retrieve: C-MOVE and C-GET outcomes (PS3.4 Annex C)."""

from __future__ import annotations

from typing import Any

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

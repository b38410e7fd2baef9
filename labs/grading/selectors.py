"""Reads of the labs: a learner sees only their own attempts and runs (404 otherwise)."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from labs.grading.models import GradingRun, LabAttempt, LabPeer
from labs.nodes.models import AssociationLog, Node
from labs.scenarios.schema import LabSpec, PeerSpec


def attempts_of(user: Any, slug: str | None = None) -> QuerySet[LabAttempt]:
    qs = LabAttempt.objects.filter(learner=user).select_related("node")
    return qs.filter(lab_slug=slug) if slug else qs


def attempt_of(user: Any, attempt_id: int) -> LabAttempt:
    return get_object_or_404(attempts_of(user), pk=attempt_id)


def run_of(user: Any, run_id: int) -> GradingRun:
    return get_object_or_404(GradingRun.objects.select_related("attempt"), pk=run_id, attempt__learner=user)


def run_progress(run: GradingRun) -> int:
    """Percent of the run's checks written so far."""
    if not run.total_checks:
        return 100
    return min(100, round(100 * run.results.count() / run.total_checks))


def attempt_nodes(attempt: LabAttempt) -> list[Node]:
    """Every node of an attempt: the learner's lab node, then its simulated peers (what reset, finish and
    cleanup must touch)."""
    nodes = [attempt.node] if attempt.node is not None else []
    return nodes + [p.node for p in attempt.peers.select_related("node").order_by("key")]


def attempt_peers(attempt: LabAttempt) -> list[LabPeer]:
    return list(attempt.peers.select_related("node").order_by("key"))


def peer_of(user: Any, attempt_id: int, key: str) -> LabPeer:
    """A peer of one of the user's attempts, or 404."""
    return get_object_or_404(
        LabPeer.objects.select_related("attempt", "node"), attempt__pk=attempt_id, attempt__learner=user, key=key
    )


def attempt_placeholders(attempt: LabAttempt) -> dict[str, str]:
    """Values of the lab text placeholders: ``{ae}``, ``{host}``, ``{port}`` (the learner's node) and
    ``{peer_ae:KEY}``, ``{peer_port:KEY}`` (its peers)."""
    from labs.nodes.selectors import node_public_host

    values: dict[str, str] = {}
    if attempt.node is not None:
        values |= {"ae": attempt.node.ae_title, "port": str(attempt.node.port), "host": node_public_host(attempt.node)}
    for peer in attempt.peers.select_related("node"):
        values[f"peer_ae:{peer.key}"] = peer.node.ae_title
        values[f"peer_port:{peer.key}"] = str(peer.node.port)
    return values


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    """Replace ``{name}`` placeholders that have a value; anything else is left as written."""
    return re.sub(r"\{([a-z_]+(?::[a-z0-9-]+)?)\}", lambda m: values.get(m.group(1), m.group(0)), text)


def peer_log(peer: LabPeer, *, limit: int = 15) -> list[AssociationLog]:
    """The peer's newest associations (its console shows what it sent and what reached it)."""
    return list(AssociationLog.objects.filter(node=peer.node).order_by("-started_at", "-id")[:limit])


def peer_spec(peer: LabPeer, lab: LabSpec) -> PeerSpec | None:
    """The lab's declaration of this peer (None if the lab file no longer declares it)."""
    return next((p for p in lab.peers if p.key == peer.key), None)

"""Play a lab's reference or wrong solution the way a learner would: real DCMTK commands against the lab node
run by a real node host, and console changes through the node services."""

from __future__ import annotations

from pathlib import Path

from django.utils import timezone

from labs.grading import peer_services, services
from labs.grading.models import GradingRun, LabAttempt
from labs.grading.selectors import attempt_nodes, attempt_placeholders, fill_placeholders
from labs.nodes import services as node_services
from labs.nodes.models import AssociationLog
from labs.scenarios.schema import LabSpec, Solution, SolutionStep
from tests.labs.fixtures import dcmtk, wait_for, wait_running


def fill(arg: str, *, lab: LabSpec, attempt: LabAttempt, workdir: Path) -> str:
    node = attempt.node
    assert node is not None
    arg = arg.replace("{ae}", node.ae_title).replace("{port}", str(node.port)).replace("{host}", "127.0.0.1")
    arg = fill_placeholders(arg, attempt_placeholders(attempt))
    if arg.startswith("{study_dir:") or arg.startswith("{study_file:"):
        kind, key, *rest = arg.strip("{}").split(":")
        directory = workdir / key
        paths = sorted(directory.glob("*.dcm")) or services.lab_study_files(lab=lab, key=key, directory=directory)
        return str(directory) if kind == "study_dir" else str(sorted(paths)[int(rest[0])])
    return arg


def play(solution: Solution, *, lab: LabSpec, attempt: LabAttempt, workdir: Path, nodehost) -> list[str]:
    """Run each step; returns the DCMTK outputs."""
    outputs = []
    node = attempt.node
    assert node is not None
    for step in solution.steps:
        if step.run:
            result = dcmtk(*[fill(a, lab=lab, attempt=attempt, workdir=workdir) for a in step.run])
            outputs.append(result.stdout)
        elif step.add_known_ae:
            k = step.add_known_ae
            port = fill(str(k.port), lab=lab, attempt=attempt, workdir=workdir)
            node_services.known_ae_add(
                node=node,
                ae_title=k.ae_title,
                host=k.host,
                port=port,
                move_destination=k.move_destination,
                may_store=k.may_store,
            )
            wait_running(node)
        elif step.configure:
            node_services.node_configure(node=node, **step.configure)
            wait_running(node)
        else:
            play_peer_step(step, lab=lab, attempt=attempt, workdir=workdir, nodehost=nodehost)
    nodehost.flush()
    return outputs


def play_peer_step(step: SolutionStep, *, lab: LabSpec, attempt: LabAttempt, workdir: Path, nodehost) -> None:
    """The console actions of the peers' labs, through the same services as the pages."""
    node = attempt.node
    assert node is not None
    values = attempt_placeholders(attempt)
    if step.edit_known_ae:
        k = step.edit_known_ae
        known = node.known_aes.get(ae_title=k.ae_title)
        port = int(fill_placeholders(str(k.port), values))
        node_services.known_ae_update(known=known, host=k.host, port=port, may_store=k.may_store)
        wait_running(node)
    elif step.worklist_add:
        peer_services.worklist_add(node=node, entry=step.worklist_add)
    elif step.worklist_delete is not None:
        for item in node.worklist_items.all():
            if item.dataset.get("00080050", {}).get("Value", [""])[0] == step.worklist_delete:
                node_services.worklist_item_delete(item=item)
    elif step.peer_settings:
        change = step.peer_settings
        peer = attempt.peers.get(key=change.peer)
        fields = change.model_dump(exclude={"peer", "destination"}, exclude_none=True)
        if "new_uids_for_changes" in fields:
            fields["new_uids"] = fields.pop("new_uids_for_changes")
        if change.destination is not None:
            dest = change.destination
            fields |= {
                "dest_ae": fill_placeholders(dest.ae_title, values),
                "dest_host": fill_placeholders(dest.host, values),
                "dest_port": fill_placeholders(str(dest.port), values),
            }
        peer_services.peer_settings_update(peer=peer, **fields)
    elif step.peer_send:
        peer_services.peer_send_execute(peer_id=attempt.peers.get(key=step.peer_send).pk)
    elif step.peer_commit:
        peer = attempt.peers.get(key=step.peer_commit)
        pressed = timezone.now()
        peer_services.peer_commit_request(peer=peer)
        nodehost.flush()  # the node answers the N-ACTION at once and reports back on its own association

        def reported() -> bool:
            nodehost.flush()
            outbound = AssociationLog.objects.filter(node=node, direction="out", started_at__gte=pressed)
            return outbound.filter(called_ae=peer.node.ae_title).exists()

        wait_for(reported, what="the node's attempt to send the storage commitment result")
    else:
        raise AssertionError(f"helpers.play cannot play {step}")
    nodehost.flush()


def grade_now(attempt: LabAttempt) -> GradingRun:
    """Request a run and grade it in this process (the Celery path is covered by its own test)."""
    run = services.grading_run_request(attempt=attempt)
    services.grading_run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def start_lab(learner, slug: str) -> LabAttempt:
    """Start the lab as the learner and wait until the node host runs its node and its peers."""
    attempt = services.lab_start(learner=learner, slug=slug)
    assert attempt.node is not None
    for node in attempt_nodes(attempt):
        wait_running(node)
    return attempt

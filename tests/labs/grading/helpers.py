"""Play a lab's reference or wrong solution the way a learner would: real DCMTK commands against the lab node
run by a real node host, and console changes through the node services."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from django.utils import timezone

from labs.dicom import synthetic
from labs.grading import peer_services, services
from labs.grading.checks import expected_instances
from labs.grading.models import GradingRun, LabAttempt
from labs.grading.selectors import attempt_nodes, attempt_placeholders, fill_placeholders
from labs.nodes import services as node_services
from labs.nodes.models import AssociationLog
from labs.scenarios.loader import lab_get
from labs.scenarios.schema import LabSpec, Solution, SolutionStep
from tests.labs.fixtures import dcmtk, wait_for, wait_running


def fill(arg: str, *, lab: LabSpec, attempt: LabAttempt, workdir: Path) -> str:
    node = attempt.node
    assert node is not None
    arg = arg.replace("{ae}", node.ae_title).replace("{port}", str(node.port)).replace("{host}", "127.0.0.1")
    arg = fill_placeholders(arg, attempt_placeholders(attempt))
    if arg.startswith("{study_dir:") or arg.startswith("{study_file:"):  # the unzipped download
        inner, rest = arg[1:].split("}", 1)
        kind, key, *index = inner.split(":")
        directory = workdir / key
        paths = sorted(directory.glob("*.dcm")) or services.lab_study_files(lab=lab, key=key, directory=directory)
        return f"{directory}{rest}" if kind == "study_dir" else str(sorted(paths)[int(index[0])])
    if "{study_uid:" in arg:  # e.g. "StudyInstanceUID={study_uid:KEY}", read off the node console's study list
        return re.sub(
            r"\{study_uid:([^}]+)\}",
            lambda m: str(synthetic.study(**lab.study(m.group(1)).generator_kwargs())[0].StudyInstanceUID),
            arg,
        )
    if arg.startswith("{dir:"):  # a folder of the learner's own, e.g. "{dir:out}" or "{dir:out}/*.dcm"
        name, rest = arg[len("{dir:") :].split("}", 1)
        directory = workdir / name
        directory.mkdir(parents=True, exist_ok=True)
        return f"{directory}{rest}"
    return arg


def tool(name: str) -> str:
    """A learner's command: DCMTK from PATH, Python tools (e.g. dicom-anonymizer) from this interpreter's bin."""
    local = Path(sys.executable).parent / name
    return str(local) if shutil.which(name) is None and local.exists() else name


def command(step: list[str], *, lab: LabSpec, attempt: LabAttempt, workdir: Path) -> list[str]:
    """The command line with placeholders filled and ``*`` expanded as the learner's shell would."""
    args = [tool(step[0])]
    for a in step[1:]:
        filled = fill(a, lab=lab, attempt=attempt, workdir=workdir)
        if "*" in filled:
            path = Path(filled)
            args.extend(sorted(str(p) for p in path.parent.glob(path.name)))
        else:
            args.append(filled)
    return args


def play(solution: Solution, *, lab: LabSpec, attempt: LabAttempt, workdir: Path, nodehost) -> list[str]:
    """Run each step; returns the DCMTK outputs."""
    outputs = []
    node = attempt.node
    assert node is not None
    for step in solution.steps:
        if step.run:
            result = dcmtk(*command(step.run, lab=lab, attempt=attempt, workdir=workdir))
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
        elif step.start_node:
            node_services.node_start(node=node)
            wait_running(node)
        elif step.answer:
            services.attempt_answer(attempt=attempt, task_key=step.answer.task, text=step.answer.text)
        elif step.merge_patient:
            m = step.merge_patient
            node_services.patient_merge(
                node=node,
                from_patient_id=m.from_patient_id,
                to_patient_id=m.to_patient_id,
                to_patient_name=m.to_patient_name,
            )
            wait_running(node)
        elif step.delete_study:
            nodehost.flush()
            uid = str(synthetic.study(**lab.study(step.delete_study).generator_kwargs())[0].StudyInstanceUID)
            node_services.study_delete(node=node, study_instance_uid=uid)
            wait_running(node)
        else:
            play_peer_step(step, lab=lab, attempt=attempt, workdir=workdir, nodehost=nodehost)
    nodehost.settle()
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
    lab = lab_get(slug)
    for node in attempt_nodes(attempt):
        if node.pk != attempt.node_id or lab.node.running:  # a lab may start with the node's listener down
            wait_running(node)
    if lab.node.running:
        node = attempt.node
        preloaded = sum(len(expected_instances(lab, s.key)) for s in lab.studies if s.preload)
        # the host indexes preloaded files just after the start (as a learner sees them appear in the console)
        wait_for(lambda: node.instances.count() >= preloaded, what="the preloaded studies indexed")
    return attempt

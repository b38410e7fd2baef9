"""Play a lab's reference or wrong solution the way a learner would: real DCMTK commands against the lab node
run by a real node host, and console changes through the node services."""

from __future__ import annotations

from pathlib import Path

from labs.grading import services
from labs.grading.models import GradingRun, LabAttempt
from labs.nodes import services as node_services
from labs.scenarios.schema import LabSpec, Solution
from tests.labs.fixtures import dcmtk, wait_running


def fill(arg: str, *, lab: LabSpec, attempt: LabAttempt, workdir: Path) -> str:
    node = attempt.node
    assert node is not None
    arg = arg.replace("{ae}", node.ae_title).replace("{port}", str(node.port)).replace("{host}", "127.0.0.1")
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
            node_services.known_ae_add(node=node, ae_title=k.ae_title, host=k.host, port=k.port)
            wait_running(node)
        elif step.configure:
            node_services.node_configure(node=node, **step.configure)
            wait_running(node)
    nodehost.flush()
    return outputs


def grade_now(attempt: LabAttempt) -> GradingRun:
    """Request a run and grade it in this process (the Celery path is covered by its own test)."""
    run = services.grading_run_request(attempt=attempt)
    services.grading_run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def start_lab(learner, slug: str) -> LabAttempt:
    """Start the lab as the learner and wait until the node host runs its node."""
    attempt = services.lab_start(learner=learner, slug=slug)
    assert attempt.node is not None
    wait_running(attempt.node)
    return attempt

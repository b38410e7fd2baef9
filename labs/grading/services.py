"""Starting labs and grading them: "Check my work" creates a run and enqueues ``labs.grade`` after commit;
the task runs the lab's checks one by one, writing each result as it finishes."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from labs.dicom import synthetic
from labs.grading.checks import CATALOGUE, CheckContext
from labs.grading.models import AttemptStatus, CheckResult, GradingRun, LabAttempt, RunStatus
from labs.nodes import services as node_services
from labs.nodes.models import Node, NodeKind
from labs.nodes.selectors import node_public_host, node_storage_dir
from labs.scenarios.loader import lab_get
from labs.scenarios.schema import LabSpec
from trainer.accounts.models import User

logger = logging.getLogger(__name__)
MAX_ENQUEUES = 3


class LabError(Exception):
    """A lab action the learner cannot do (shown as a message)."""


def lab_node_configure(*, node: Node, lab: LabSpec) -> Node:
    """Give a node the lab's starting configuration (AE title, flags, syntaxes, known AEs)."""
    spec = lab.node
    changes: dict[str, Any] = {
        "ae_title": spec.ae_title,
        "reject_unknown_calling": spec.reject_unknown_calling,
        "check_called_ae": spec.check_called_ae,
        "accept_all_storage": spec.accept_all_storage,
    }
    if spec.transfer_syntaxes:
        changes["transfer_syntaxes"] = list(spec.transfer_syntaxes)
    if spec.sop_classes:
        changes["sop_classes"] = list(spec.sop_classes)
    if spec.quota_instances is not None:
        changes["quota_instances"] = spec.quota_instances
    if spec.quota_bytes is not None:
        changes["quota_bytes"] = spec.quota_bytes
    node_services.node_configure(node=node, **changes)
    for known in spec.known_aes:
        node_services.known_ae_add(
            node=node, ae_title=known.ae_title, host=known.host, port=known.port, description=known.description
        )
    node.refresh_from_db()
    return node


def lab_start(*, learner: User, slug: str) -> LabAttempt:
    """The learner's active attempt of the lab, or a new one with a fresh node in the lab's configuration."""
    lab = lab_get(slug)
    existing = LabAttempt.objects.filter(learner=learner, lab_slug=slug, status=AttemptStatus.ACTIVE).first()
    if existing and existing.node_id:
        return existing
    with transaction.atomic():
        try:
            node = node_services.node_create(
                owner=learner,
                kind=NodeKind.LAB,
                name=lab.title,
                lab_ref=slug,
                ae_title=lab.node.ae_title,
                start=False,  # preloaded studies are in its store before the host starts it
            )
        except node_services.NodeError as exc:
            raise LabError(str(exc)) from exc
        lab_node_configure(node=node, lab=lab)
        for spec in lab.studies:
            if spec.preload:
                synthetic.write_into_store(synthetic.study(**spec.generator_kwargs()), node_storage_dir(node.pk))
        if lab.node.running:  # a lab about a listener that is down starts with the node stopped
            node_services.node_start(node=node)
        if existing:
            existing.node = node
            existing.save(update_fields=["node"])
            return existing
        return LabAttempt.objects.create(learner=learner, lab_slug=slug, node=node)


def attempt_answer(*, attempt: LabAttempt, task_key: str, text: str) -> LabAttempt:
    """Keep the learner's answer to a task that asks a question (graded by the task's checks)."""
    lab = lab_get(attempt.lab_slug)
    if not any(t.key == task_key and t.question for t in lab.tasks):
        raise LabError("That task does not ask a question.")
    if attempt.status == AttemptStatus.CLOSED:
        raise LabError("This attempt is closed; start the lab again to answer.")
    answer = " ".join(text.split())[:500]
    if not answer:
        raise LabError("Type an answer first.")
    with transaction.atomic():
        locked = LabAttempt.objects.select_for_update().get(pk=attempt.pk)
        locked.answers = {**locked.answers, task_key: answer}
        locked.save(update_fields=["answers"])
    attempt.refresh_from_db()
    return attempt


def lab_study_files(*, lab: LabSpec, key: str, directory: Path) -> list[Path]:
    """Write one of the lab's generated studies as PS3.10 files (the same UIDs and pixels every time)."""
    spec = lab.study(key)
    return synthetic.write_study(synthetic.study(**spec.generator_kwargs()), directory)


def lab_study_zip(*, lab: LabSpec, key: str) -> bytes:
    """One of the lab's generated studies as a zip of PS3.10 files (for ``storescu +sd``)."""
    import io
    import tempfile
    import zipfile

    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in lab_study_files(lab=lab, key=key, directory=Path(tmp) / key):
            archive.write(path, f"{key}/{path.name}")
    return buffer.getvalue()


def grading_run_request(*, attempt: LabAttempt) -> GradingRun:
    """Create a queued run; the grading task is enqueued once the transaction commits."""
    from labs.grading.tasks import grade

    lab = lab_get(attempt.lab_slug)
    if attempt.node_id is None:
        raise LabError("This attempt has no node any more; start the lab again.")
    pending = attempt.runs.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).first()
    if pending is not None:  # a double click does not grade twice
        return pending
    total = sum(len(t.checks) for t in lab.tasks)
    run = GradingRun.objects.create(attempt=attempt, max_score=lab.total_points, total_checks=total, enqueues=1)
    transaction.on_commit(lambda: grade.delay(run.pk))
    return run


def _claim(run_id: int) -> GradingRun | None:
    """Move the run to running under a row lock; None when it is already finished (a re-delivery)."""
    with transaction.atomic():
        run = GradingRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status in (RunStatus.DONE, RunStatus.FAILED):
            return None
        run.status = RunStatus.RUNNING
        run.started = run.started or timezone.now()
        run.save(update_fields=["status", "started"])
        return run


def grading_run_execute(*, run_id: int) -> str:
    """Run every check not yet recorded for the run (a re-delivered run resumes, it is not graded twice)."""
    run = _claim(run_id)
    if run is None:
        return "already finished"
    attempt = LabAttempt.objects.select_related("node").get(pk=run.attempt_id)
    lab = lab_get(attempt.lab_slug)
    node = attempt.node
    if node is None:
        return grading_run_fail(run_id=run_id, error="The lab's node was deleted.")
    ctx = CheckContext(
        node=node, since=attempt.started, lab=lab, host=node_public_host(node), answers=dict(attempt.answers)
    )
    done = set(CheckResult.objects.filter(run=run).values_list("order", flat=True))
    order = 0
    for task in lab.tasks:
        for spec in task.checks:
            order += 1
            if order in done:
                continue
            try:
                outcome = CATALOGUE[spec.check](ctx, dict(spec.params))
                passed, evidence, hint = outcome.passed, outcome.evidence, outcome.hint
            except Exception as exc:  # a check that cannot run fails with the reason, the others still run
                logger.exception("check %s of run %s", spec.check, run_id)
                passed, evidence, hint = False, f"The check could not run: {exc}", ""
            try:
                CheckResult.objects.create(
                    run=run,
                    order=order,
                    task_key=task.key,
                    name=spec.check,
                    passed=passed,
                    points=spec.points if passed else 0,
                    max_points=spec.points,
                    evidence=evidence[:2000],
                    hint="" if passed else (spec.hint or hint),
                )
            except IntegrityError:  # another delivery wrote it first
                continue
    return _finish(run_id)


def _finish(run_id: int) -> str:
    with transaction.atomic():
        run = GradingRun.objects.select_for_update().get(pk=run_id)
        if run.status in (RunStatus.DONE, RunStatus.FAILED):
            return run.status
        results = list(run.results.all())
        run.score = sum(r.points for r in results)
        run.status = RunStatus.DONE
        run.finished = timezone.now()
        run.save(update_fields=["score", "status", "finished"])
        attempt = LabAttempt.objects.select_for_update().get(pk=run.attempt_id)
        attempt.best_score = max(attempt.best_score, run.score)
        if run.max_score and run.score >= run.max_score:
            attempt.status = AttemptStatus.PASSED
        attempt.save(update_fields=["best_score", "status"])
    return f"{run.score}/{run.max_score}"


def grading_run_fail(*, run_id: int, error: str) -> str:
    GradingRun.objects.filter(pk=run_id, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).update(
        status=RunStatus.FAILED, finished=timezone.now(), error=error[:300]
    )
    return "failed"


def grading_sweep_stuck(*, now: datetime | None = None) -> list[int]:
    """Re-enqueue runs stuck in queued/running past LABS_GRADING_STUCK_SECONDS; fail them after MAX_ENQUEUES."""
    from labs.grading.tasks import grade

    cutoff = (now or timezone.now()) - timedelta(seconds=settings.LABS_GRADING_STUCK_SECONDS)
    stuck = GradingRun.objects.filter(
        Q(status=RunStatus.QUEUED, created__lt=cutoff) | Q(status=RunStatus.RUNNING, started__lt=cutoff)
    )
    again: list[int] = []
    for run in stuck:
        if run.enqueues >= MAX_ENQUEUES:
            grading_run_fail(run_id=run.pk, error=f"Grading did not finish after {run.enqueues} tries.")
            continue
        updated = GradingRun.objects.filter(pk=run.pk, status=run.status, enqueues=run.enqueues).update(
            enqueues=F("enqueues") + 1, started=None if run.status == RunStatus.QUEUED else (now or timezone.now())
        )
        if updated:
            run_id = run.pk
            transaction.on_commit(lambda run_id=run_id: grade.delay(run_id))  # type: ignore[misc]
            again.append(run.pk)
    return again

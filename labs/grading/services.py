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
from labs.grading import peer_services
from labs.grading.checks import CATALOGUE, CheckContext
from labs.grading.models import (
    OPEN_STATUSES,
    AttemptStatus,
    CheckResult,
    GradingRun,
    LabAttempt,
    RunStatus,
    UploadedLab,
)
from labs.grading.selectors import attempt_nodes, attempt_placeholders, fill_placeholders
from labs.nodes import services as node_services
from labs.nodes.models import Node, NodeKind
from labs.nodes.selectors import node_public_host, node_storage_dir
from labs.scenarios.loader import LabFileError, lab_catalogue, lab_get, parse_lab
from labs.scenarios.schema import LabSpec
from trainer.accounts.models import User

logger = logging.getLogger(__name__)
MAX_ENQUEUES = 3


class LabError(Exception):
    """A lab action the learner cannot do (shown as a message)."""


def lab_node_configure(*, node: Node, lab: LabSpec, values: dict[str, str] | None = None) -> Node:
    """Give a node the lab's starting configuration (AE title, flags, syntaxes, limits, known AEs — their
    ``{peer_port:KEY}`` filled from ``values`` —, worklist entries)."""
    from labs.grading.peer_services import known_aes_add, worklist_add

    spec = lab.node
    changes: dict[str, Any] = {
        "ae_title": spec.ae_title,
        "reject_unknown_calling": spec.reject_unknown_calling,
        "check_called_ae": spec.check_called_ae,
        "accept_all_storage": spec.accept_all_storage,
        "max_associations": spec.max_associations,
        "duplicate_policy": spec.duplicate_policy,
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
    known_aes_add(node=node, known=spec.known_aes, values={"port": str(node.port), **(values or {})})
    for entry in spec.worklist:
        worklist_add(node=node, entry=entry)
    node.refresh_from_db()
    return node


def lab_attempt_build(*, attempt: LabAttempt, lab: LabSpec, port: int | None = None) -> Node:
    """Give the attempt a new learner node and its simulated peers in the lab's starting configuration, with
    their preloaded studies, then start them (``port``: keep the address of the node it replaces). The learner
    node is configured after the peers exist, because its known AEs may name their ports."""
    try:
        node = node_services.node_create(
            owner=attempt.learner,
            kind=NodeKind.LAB,
            name=lab.title,
            lab_ref=lab.slug,
            ae_title=lab.node.ae_title,
            start=False,  # preloaded studies are in its store before the host starts it
            port=port,
        )
    except node_services.NodeError as exc:
        raise LabError(str(exc)) from exc
    attempt.node = node
    attempt.save(update_fields=["node"])
    try:
        peer_services.peers_start(attempt=attempt, lab=lab)
    except peer_services.PeerError as exc:
        raise LabError(str(exc)) from exc
    lab_node_configure(node=node, lab=lab, values=attempt_placeholders(attempt))
    for spec in lab.studies:
        if spec.preload:
            synthetic.write_into_store(synthetic.study(**spec.generator_kwargs()), node_storage_dir(node.pk))
    if lab.node.running:  # a lab about a listener that is down starts with the node stopped
        node_services.node_start(node=node)
    return node


def lab_start(*, learner: User, slug: str) -> LabAttempt:
    """Resume the learner's open attempt of the lab, or start a new one (deadline = now + the lab's time limit)
    with a fresh node in the lab's configuration. An open attempt past its deadline is closed first."""
    lab = lab_get(slug)
    existing = LabAttempt.objects.filter(learner=learner, lab_slug=slug, status__in=OPEN_STATUSES).first()
    if existing is not None:
        lab_attempt_enforce_deadline(attempt=existing)
        if not existing.is_open:
            existing = None
    if existing and existing.node_id:
        return existing
    with transaction.atomic():
        if existing is None:
            now = timezone.now()
            minutes = lab.time_limit_minutes * lab_time_multiplier(learner=learner, slug=slug)
            existing = LabAttempt.objects.create(
                learner=learner,
                lab_slug=slug,
                max_score=lab.total_points,
                deadline=now + timedelta(minutes=minutes),
            )
        lab_attempt_build(attempt=existing, lab=lab)
        return existing


def lab_time_multiplier(*, learner: User, slug: str) -> float:
    """The learner's extra-time accommodation (the largest) in the courses that assign this lab; 1.0 without."""
    from django.db.models import Max

    from trainer.courses.models import Accommodation, AssignmentKind

    best = Accommodation.objects.filter(
        user=learner, course__assignments__kind=AssignmentKind.LAB, course__assignments__lab_slug=slug
    ).aggregate(m=Max("time_multiplier"))["m"]
    return max(1.0, float(best)) if best is not None else 1.0


# --- lifecycle: deadline, reset, finish, cleanup ------------------------------------------------------------


def _refuse_closed(attempt: LabAttempt) -> None:
    lab_attempt_enforce_deadline(attempt=attempt)
    if attempt.status == AttemptStatus.EXPIRED:
        raise LabError(
            "Time is up: this attempt closed at its deadline and its grade is your best check. "
            "Start the lab again for a new attempt."
        )
    if not attempt.is_open:
        raise LabError("This attempt is finished. Start the lab again for a new attempt.")


def _close(*, attempt: LabAttempt, status: str) -> LabAttempt:
    """Close an open attempt (idempotent: a closed one is left as it is), then clean up its nodes if no check is
    still running on them (otherwise the sweeper does it once the check ends)."""
    with transaction.atomic():
        locked = LabAttempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.is_open:
            locked.status = status
            locked.ended = (
                min(timezone.now(), locked.deadline)
                if status == AttemptStatus.EXPIRED and locked.deadline
                else timezone.now()
            )
            locked.save(update_fields=["status", "ended"])
    lab_attempt_cleanup(attempt=locked)
    attempt.refresh_from_db()
    return attempt


def lab_attempt_enforce_deadline(*, attempt: LabAttempt, now: datetime | None = None) -> LabAttempt:
    """Checked on every request and by the sweeper: an open attempt past its deadline is closed as expired."""
    if attempt.is_open and attempt.deadline is not None and (now or timezone.now()) >= attempt.deadline:
        _close(attempt=attempt, status=AttemptStatus.EXPIRED)
    return attempt


def lab_attempt_finish(*, attempt: LabAttempt) -> LabAttempt:
    """The learner is done: the attempt closes with its best score, its nodes are deleted."""
    lab_attempt_enforce_deadline(attempt=attempt)
    if not attempt.is_open:
        return attempt
    return _close(attempt=attempt, status=AttemptStatus.FINISHED)


def lab_attempt_cleanup(*, attempt: LabAttempt) -> list[int]:
    """Delete the nodes of a closed attempt once no check runs on them (the host stops them and removes their
    files). Returns the deleted node ids."""
    if attempt.is_open or attempt.runs.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).exists():
        return []
    deleted = []
    for node in attempt_nodes(attempt):
        deleted.append(node.pk)
        node_services.node_delete(node=node)
    return deleted


def lab_attempt_reset(*, attempt: LabAttempt) -> LabAttempt:
    """Back to the lab's starting state: the attempt's nodes are replaced by fresh ones in the lab's configuration
    with its preloaded studies, on the same ports and AE titles; checks then read only what happens after the
    reset. The deadline does not move."""
    _refuse_closed(attempt)
    if attempt.runs.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).exists():
        raise LabError("A check is running on your node: wait for its result, then reset.")
    lab = lab_get(attempt.lab_slug)
    with transaction.atomic():
        locked = LabAttempt.objects.select_for_update().get(pk=attempt.pk)
        old = locked.node
        port = old.port if old is not None else None
        for node in attempt_nodes(locked):
            node_services.node_delete(node=node)
        lab_attempt_build(attempt=locked, lab=lab, port=port)
        locked.reset_at = timezone.now()
        locked.save(update_fields=["reset_at"])
    attempt.refresh_from_db()
    return attempt


def lab_attempts_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Run by Celery beat: close open attempts past their deadline, delete the nodes of closed attempts whose
    checks have ended."""
    now = now or timezone.now()
    expired = 0
    for attempt in LabAttempt.objects.filter(status__in=OPEN_STATUSES, deadline__lte=now):
        lab_attempt_enforce_deadline(attempt=attempt, now=now)
        expired += 1
    cleaned = 0
    closed = LabAttempt.objects.exclude(status__in=OPEN_STATUSES).filter(node__isnull=False)
    for attempt in closed.select_related("node"):
        cleaned += len(lab_attempt_cleanup(attempt=attempt))
    return {"expired": expired, "nodes_deleted": cleaned}


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
    _refuse_closed(attempt)
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
        node=node, since=attempt.checks_since, lab=lab, host=node_public_host(node), answers=dict(attempt.answers)
    )
    values = attempt_placeholders(attempt)  # {port}, {peer_port:KEY}… in check parameters
    done = set(CheckResult.objects.filter(run=run).values_list("order", flat=True))
    order = 0
    for task in lab.tasks:
        for spec in task.checks:
            order += 1
            if order in done:
                continue
            try:
                params = {k: fill_placeholders(v, values) if isinstance(v, str) else v for k, v in spec.params.items()}
                outcome = CATALOGUE[spec.check](ctx, params)
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
                    hint="" if passed else (hint or spec.hint),
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
        if run.max_score and run.score >= run.max_score and attempt.status == AttemptStatus.ACTIVE:
            attempt.status = AttemptStatus.PASSED  # still open; a closed attempt stays closed
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


# --- instructors' own labs ----------------------------------------------------------------------------------

RESERVED_SLUGS = frozenset({"attempts", "runs", "teach", "start"})
MAX_LAB_FILE_BYTES = 200_000


def uploaded_lab_delete(*, lab: UploadedLab) -> None:
    """Delete an instructor's uploaded lab (the caller found it through ``selectors.uploaded_labs_of``). A lab
    someone has attempted, or that a course assigns, stays: its attempts, grades and history read its file."""
    from trainer.courses.models import Assignment

    if LabAttempt.objects.filter(lab_slug=lab.slug).exists():
        raise LabError(f"“{lab.title}” has learners' attempts; it stays so that their results keep their meaning.")
    courses = sorted(set(Assignment.objects.filter(lab_slug=lab.slug).values_list("course__code", flat=True)))
    if courses:
        raise LabError(f"“{lab.title}” is assigned in {', '.join(courses)}; remove those assignments first.")
    lab.delete()


def uploaded_lab_save(*, by: User, text: str, source: str = "upload") -> UploadedLab:
    """Validate an instructor's lab file (every error names its place, e.g. ``tasks.0.checks.1``) and store it;
    it joins the catalogue at once. A bundled lab's slug cannot be taken, and an uploaded lab can be replaced
    only by the instructor who uploaded it (or an admin). Nothing is stored when anything is wrong."""
    if len(text.encode("utf-8")) > MAX_LAB_FILE_BYTES:
        raise LabFileError(f"{source}: the file is larger than {MAX_LAB_FILE_BYTES // 1000} kB")
    lab = parse_lab(text, source=source)
    if lab.slug in lab_catalogue() or lab.slug in RESERVED_SLUGS:
        raise LabFileError(
            f"{source}: slug: '{lab.slug}' is taken by a lab that ships with the platform; choose another"
        )
    existing = UploadedLab.objects.filter(slug=lab.slug).select_related("uploaded_by").first()
    if existing is not None and existing.uploaded_by_id != by.pk and not by.is_platform_admin:
        owner = existing.uploaded_by.username if existing.uploaded_by else "someone else"
        raise LabFileError(f"{source}: slug: '{lab.slug}' is an uploaded lab of {owner}; choose another slug")
    row, _ = UploadedLab.objects.update_or_create(
        slug=lab.slug,
        defaults={"title": lab.title, "source": text, "uploaded_by": existing.uploaded_by if existing else by},
    )
    return row

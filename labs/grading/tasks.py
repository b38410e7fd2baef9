"""Celery tasks of the labs: grading a run (idempotent, acks_late), sweeping stuck runs and expired attempts."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from labs.grading.peer_services import peer_send_execute
from labs.grading.services import grading_run_execute, grading_run_fail, grading_sweep_stuck, lab_attempts_sweep
from trainer.core.taskbase import PlatformTask


class GradeTask(PlatformTask):
    """A run whose message keeps killing its worker is marked failed, not left spinning."""

    abstract = True

    def on_delivery_limit(self, *args: Any, **kwargs: Any) -> None:
        run_id = kwargs.get("run_id", args[0] if args else None)
        if run_id is not None:
            grading_run_fail(run_id=int(run_id), error="Grading gave up: its worker kept dying. Try again.")


@shared_task(base=GradeTask, name="labs.grade", acks_late=True)
def grade(run_id: int) -> str:
    return grading_run_execute(run_id=run_id)


@shared_task(base=PlatformTask, name="labs.sweep_stuck_runs")
def sweep_stuck_runs() -> list[int]:
    return grading_sweep_stuck()


@shared_task(base=PlatformTask, name="labs.peer_send", acks_late=True, soft_time_limit=120, time_limit=150)
def peer_send(peer_id: int, token: str) -> str:
    """A simulated modality sends its images (the learner pressed "Send"); a redelivered message whose press
    was already handled sends nothing."""
    return peer_send_execute(peer_id=peer_id, token=token)


@shared_task(base=PlatformTask, name="labs.sweep_attempts")
def sweep_attempts() -> dict[str, int]:
    """Close attempts whose time ran out and delete the nodes of closed attempts."""
    return lab_attempts_sweep()

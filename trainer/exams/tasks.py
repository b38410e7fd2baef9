from __future__ import annotations

from celery import shared_task

from trainer.core.taskbase import PlatformTask
from trainer.exams.services import exam_sweep_overdue


@shared_task(base=PlatformTask, name="exams.sweep_overdue")
def sweep_overdue() -> int:
    """Auto-submit attempts whose deadline passed while the learner was away."""
    return exam_sweep_overdue()

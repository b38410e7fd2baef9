"""Score passback follows exam submissions, graded lab runs and grade overrides without the exams, labs and
courses apps knowing about LTI: they save their rows through their services, and these receivers queue the
passback (sent after commit by a Celery task)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from labs.grading.models import GradingRun
from trainer.courses.models import GradeOverride
from trainer.exams.models import ExamAttempt


@receiver(post_save, sender=ExamAttempt, dispatch_uid="lti-passback-attempt")
def attempt_saved(sender: type[ExamAttempt], instance: ExamAttempt, **kwargs: Any) -> None:
    from trainer.lti.services import exam_attempt_submitted

    exam_attempt_submitted(attempt=instance)


@receiver(post_save, sender=GradingRun, dispatch_uid="lti-passback-lab-run")
def lab_run_saved(sender: type[GradingRun], instance: GradingRun, **kwargs: Any) -> None:
    from trainer.lti.services import lab_run_graded

    lab_run_graded(run=instance)


@receiver(post_save, sender=GradeOverride, dispatch_uid="lti-passback-override")
def override_saved(sender: type[GradeOverride], instance: GradeOverride, created: bool, **kwargs: Any) -> None:
    from trainer.lti.services import passback_queue_for_override, passback_targets_exist

    if created and passback_targets_exist(assignment=instance.assignment):
        passback_queue_for_override(override=instance)

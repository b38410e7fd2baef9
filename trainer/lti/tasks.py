"""Celery tasks of the LTI tool: score passback (retried with backoff until the platform accepts) and roster
sync. Both take ids and are idempotent."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings

from trainer.core.taskbase import PlatformTask
from trainer.lti.services import (
    LtiError,
    PassbackTransientError,
    passback_backoff,
    passback_fail,
    passback_send,
)
from trainer.lti.services import roster_sync as roster_sync_service

logger = logging.getLogger(__name__)


class ScorePassbackTask(PlatformTask):
    """A passback whose message keeps killing its worker is marked failed, not lost."""

    abstract = True

    def on_delivery_limit(self, *args: Any, **kwargs: Any) -> None:
        passback_id = kwargs.get("passback_id", args[0] if args else None)
        if passback_id is not None:
            passback_fail(passback_id=int(passback_id), error="Given up: the task's worker kept dying.")


@shared_task(base=ScorePassbackTask, bind=True, name="lti.score_passback", max_retries=None)
def score_passback(self: ScorePassbackTask, passback_id: int) -> str:
    """Send one score; on 429/5xx/connection errors retry with exponential backoff up to
    LTI_PASSBACK_MAX_RETRIES times, then mark the passback failed."""
    try:
        return passback_send(passback_id=passback_id)
    except PassbackTransientError as exc:
        retries = self.request.retries
        if retries >= settings.LTI_PASSBACK_MAX_RETRIES:
            return passback_fail(passback_id=passback_id, error=f"Gave up after {retries + 1} tries: {exc}")
        raise self.retry(countdown=passback_backoff(retries=retries, retry_after=exc.retry_after), exc=exc) from exc


@shared_task(base=PlatformTask, name="lti.roster_sync")
def roster_sync(course_context_id: int) -> dict[str, object]:
    """Enrol or update the LMS course's members (NRPS) on the linked course."""
    try:
        return roster_sync_service(course_context_id=course_context_id).as_dict()
    except LtiError as exc:
        logger.warning("roster sync of %s: %s", course_context_id, exc)
        return {"error": str(exc)}

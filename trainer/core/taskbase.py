"""The base class of every platform task: bounded redeliveries on top of acks_late."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.conf import settings

from trainer.core.services.tasks import task_delivery_record

logger = logging.getLogger(__name__)


class DeliveryLimitExceeded(Exception):
    """A message came back more often than CELERY_TASK_MAX_DELIVERIES allows."""


class PlatformTask(Task):  # type: ignore[type-arg]
    """Counts each delivery of a message; past the limit the task is not run again but
    ``on_delivery_limit`` is called so the owner can record a clear failure."""

    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.request.id and not self.request.is_eager:
            # ``self.retry`` re-sends the message under the same id: count each retry's deliveries apart, so
            # that a task retrying on purpose is not mistaken for one whose worker keeps dying.
            retries = self.request.retries or 0
            key = f"{self.request.id}:{retries}" if retries else self.request.id
            deliveries = task_delivery_record(task_id=key, task_name=self.name)
            if deliveries > settings.CELERY_TASK_MAX_DELIVERIES:
                logger.error("%s[%s] delivered %d times; giving up", self.name, self.request.id, deliveries)
                self.on_delivery_limit(*args, **kwargs)
                raise DeliveryLimitExceeded(f"{self.name} delivered {deliveries} times")
        return super().__call__(*args, **kwargs)

    def on_delivery_limit(self, *args: Any, **kwargs: Any) -> None:
        """Override to mark the owning row failed (e.g. a grading run)."""

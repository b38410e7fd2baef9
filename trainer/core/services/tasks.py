"""Bookkeeping for Celery deliveries (see TaskDelivery)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from trainer.core.models import TaskDelivery


@transaction.atomic
def task_delivery_record(*, task_id: str, task_name: str) -> int:
    """Count one more delivery of this message and return the total so far."""
    TaskDelivery.objects.get_or_create(task_id=task_id, defaults={"task_name": task_name})
    TaskDelivery.objects.filter(task_id=task_id).update(deliveries=F("deliveries") + 1, last_seen=timezone.now())
    return TaskDelivery.objects.values_list("deliveries", flat=True).get(task_id=task_id)


def task_delivery_prune(*, older_than: timedelta = timedelta(days=2)) -> int:
    deleted, _ = TaskDelivery.objects.filter(last_seen__lt=timezone.now() - older_than).delete()
    return deleted

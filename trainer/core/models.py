from __future__ import annotations

from django.db import models


class TaskDelivery(models.Model):
    """How many times a Celery message (by task id) has been handed to a worker.

    With ``acks_late`` a message whose worker dies is delivered again; counting deliveries lets a task that keeps
    killing its worker stop after ``CELERY_TASK_MAX_DELIVERIES`` instead of looping forever.
    """

    task_id = models.CharField(max_length=64, primary_key=True)
    task_name = models.CharField(max_length=200)
    deliveries = models.PositiveIntegerField(default=0)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.task_name}[{self.task_id}] x{self.deliveries}"

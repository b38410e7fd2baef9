"""A message delivered more often than the limit is not run again (bounded redeliveries with acks_late)."""

import pytest
from django.test import override_settings

from trainer.core.services.tasks import task_delivery_record
from trainer.core.taskbase import DeliveryLimitExceeded, PlatformTask


class Recorder(PlatformTask):
    name = "tests.recorder"
    runs: list[int] = []
    gave_up: list[int] = []

    def run(self, value: int) -> int:
        self.runs.append(value)
        return value

    def on_delivery_limit(self, value: int) -> None:
        self.gave_up.append(value)


@pytest.mark.django_db
def test_each_delivery_of_the_same_message_is_counted():
    assert task_delivery_record(task_id="t-1", task_name="x") == 1
    assert task_delivery_record(task_id="t-1", task_name="x") == 2
    assert task_delivery_record(task_id="t-2", task_name="x") == 1


@pytest.mark.django_db
@override_settings(CELERY_TASK_MAX_DELIVERIES=2)
def test_a_task_stops_running_after_the_delivery_limit_and_reports_it():
    from trainer.celery import app

    task = app.register_task(Recorder())
    Recorder.runs.clear()
    Recorder.gave_up.clear()
    for _ in range(2):
        task.push_request(id="msg-1", is_eager=False)
        try:
            assert task(7) == 7
        finally:
            task.pop_request()
    task.push_request(id="msg-1", is_eager=False)
    try:
        with pytest.raises(DeliveryLimitExceeded):
            task(7)
    finally:
        task.pop_request()
    assert Recorder.runs == [7, 7]
    assert Recorder.gave_up == [7]


@pytest.mark.django_db
@override_settings(CELERY_TASK_MAX_DELIVERIES=2)
def test_deliberate_retries_are_not_counted_as_redeliveries():
    """``self.retry`` re-sends the message under the same id: each retry has its own delivery count."""
    from trainer.celery import app

    class RetryRecorder(Recorder):
        name = "tests.retry-recorder"

    task = app.register_task(RetryRecorder())
    Recorder.runs.clear()
    Recorder.gave_up.clear()
    for retries in range(4):
        task.push_request(id="msg-retrying", retries=retries, is_eager=False)
        try:
            assert task(retries) == retries
        finally:
            task.pop_request()
    assert Recorder.runs == [0, 1, 2, 3]
    assert Recorder.gave_up == []

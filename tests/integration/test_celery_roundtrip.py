"""The health task goes through a real Redis broker to a real worker process and back."""

import os
import uuid

import pytest
from django.conf import settings

from trainer.core.tasks import ping

pytestmark = pytest.mark.integration


def test_ping_round_trips_through_redis_and_a_separate_worker_process(celery_worker):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    token = uuid.uuid4().hex
    reply = ping.delay(token).get(timeout=20)
    assert reply["token"] == token
    assert reply["worker_pid"] != os.getpid()


def test_worker_is_configured_for_late_acks_json_and_prefetch_of_one():
    from trainer.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit

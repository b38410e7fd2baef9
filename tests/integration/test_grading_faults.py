"""Grading under faults, with real processes: a Celery worker killed with SIGKILL in the middle of a check, and
a Redis broker restarted (and emptied) while grading tasks wait in it. In both cases the stuck-run sweeper
(``labs.sweep_stuck_runs``, run by beat) brings every run to exactly one finished result per check."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.db.models import Count
from django.utils import timezone

from labs.grading import services
from labs.grading.models import CheckResult, GradingRun, RunStatus
from tests.conftest import WorkerProcess
from tests.integration import fault_checks  # noqa: F401 - registers test_gate in this process too
from tests.integration.fault_checks import write_gate_lab
from tests.labs.fixtures import wait_for
from trainer.accounts.models import User
from trainer.celery import app as celery_app

pytestmark = [pytest.mark.integration]
FAULT_CHECKS = ("tests.integration.fault_checks",)


def learner_named(username: str) -> User:
    return User.objects.create_user(username=username, password="x")


def sweep_as_beat_would() -> list[int]:
    """Run the sweeper as beat does once the runs are older than LABS_GRADING_STUCK_SECONDS."""
    from django.conf import settings

    later = timezone.now() + timedelta(seconds=settings.LABS_GRADING_STUCK_SECONDS + 1)
    return services.grading_sweep_stuck(now=later)


def assert_graded_once(run: GradingRun, checks: int) -> None:
    run.refresh_from_db()
    assert run.status == RunStatus.DONE, (run.status, run.error)
    assert GradingRun.objects.filter(attempt=run.attempt).count() == 1
    per_order = dict(CheckResult.objects.filter(run=run).values_list("order").annotate(n=Count("id")))
    assert per_order == dict.fromkeys(range(1, checks + 1), 1)
    assert run.score == checks == run.max_score


def test_worker_killed_mid_check_grades_every_check_exactly_once(redis_url, transactional_db, tmp_path, settings):
    labs = tmp_path / "labs"
    gate = tmp_path / "gate"
    gate.mkdir()
    (gate / "open-1").touch()
    (gate / "open-3").touch()
    write_gate_lab(
        labs,
        slug="fault-kill",
        gates=[
            {"release": str(gate / "open-1"), "calls": str(gate / "calls-1")},
            {"release": str(gate / "open-2"), "started": str(gate / "started-2"), "calls": str(gate / "calls-2")},
            {"release": str(gate / "open-3"), "calls": str(gate / "calls-3")},
        ],
    )
    settings.LABS_DIR = labs
    env = {"LABS_DIR": str(labs)}
    worker = WorkerProcess(tmp_path / "worker-1.log", include=FAULT_CHECKS, env=env)
    worker.start()
    try:
        attempt = services.lab_start(learner=learner_named("kill9"), slug="fault-kill")
        run = services.grading_run_request(attempt=attempt)
        wait_for((gate / "started-2").exists, timeout=60, what="the worker to be inside check 2")
        worker.kill()  # SIGKILL to the worker and its pool children, mid-check
    finally:
        worker.stop()
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    assert list(CheckResult.objects.filter(run=run).values_list("order", flat=True)) == [1]

    (gate / "open-2").touch()
    restarted = WorkerProcess(tmp_path / "worker-2.log", include=FAULT_CHECKS, env=env)
    restarted.start()
    try:
        assert sweep_as_beat_would() == [run.pk]
        wait_for(lambda: GradingRun.objects.get(pk=run.pk).status == RunStatus.DONE, timeout=60, what="the run")
        assert sweep_as_beat_would() == []  # a finished run is never picked up again
    finally:
        restarted.stop()
    assert_graded_once(run, 3)
    # Check 1 was recorded before the kill and is not run again; check 2 ran once per worker; check 3 once.
    assert len((gate / "calls-1").read_text().split()) == 1
    assert len((gate / "calls-2").read_text().split()) == 2
    assert len((gate / "calls-3").read_text().split()) == 1
    page = services.grading_run_execute(run_id=run.pk)  # a late re-delivery of the killed message
    assert page == "already finished"
    assert_graded_once(run, 3)


class PrivateRedis:
    """A redis-server of this test only (no persistence: a restart empties it, like losing the broker)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed (apt package redis-server)"
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        wait_for(lambda: _pings(client), timeout=20, what="the private redis-server")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()  # as abrupt as a crash
            self.proc.wait(10)

    def queued(self) -> int:
        return int(redis.Redis.from_url(self.url).llen("celery"))


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


@contextmanager
def broker(url: str) -> Iterator[None]:
    """Send this process's tasks to ``url`` (the producer pools are rebuilt on the way in and out)."""
    old = celery_app.conf.broker_url

    def switch(to: str) -> None:
        from kombu import pools

        celery_app.conf.broker_url = to
        pools.reset()  # kombu keeps producer pools per broker URL: drop them all, closed ones included
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    switch(url)
    try:
        yield
    finally:
        switch(old)


def test_redis_restart_with_queued_runs_loses_nothing(redis_url, transactional_db, tmp_path, settings):
    labs = tmp_path / "labs"
    gate = tmp_path / "gate"
    gate.mkdir()
    (gate / "open").touch()
    write_gate_lab(labs, slug="fault-redis", gates=[{"release": str(gate / "open")}] * 2)
    settings.LABS_DIR = labs
    private = PrivateRedis(tmp_path)
    private.start()
    try:
        with broker(private.url):
            runs = []
            for i in range(3):
                attempt = services.lab_start(learner=learner_named(f"redis{i}"), slug="fault-redis")
                runs.append(services.grading_run_request(attempt=attempt))
            assert private.queued() == 3  # three grading messages wait for a worker

            private.stop()  # the broker dies with the messages…
            private.start()
            assert private.queued() == 0  # …and comes back empty
            assert all(GradingRun.objects.get(pk=r.pk).status == RunStatus.QUEUED for r in runs)

            worker = WorkerProcess(
                tmp_path / "worker.log",
                include=FAULT_CHECKS,
                env={"LABS_DIR": str(labs), "CELERY_BROKER_URL": private.url},
            )
            # The worker's results go to the suite's Redis, its tasks come from the private one.
            worker.start()
            try:
                assert sorted(sweep_as_beat_would()) == sorted(r.pk for r in runs)
                wait_for(
                    lambda: GradingRun.objects.filter(pk__in=[r.pk for r in runs], status=RunStatus.DONE).count() == 3,
                    timeout=90,
                    what="every run graded",
                )
            finally:
                worker.stop()
    finally:
        private.stop()
    for run in runs:
        assert_graded_once(run, 2)

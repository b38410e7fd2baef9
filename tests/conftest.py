"""Fixtures shared by the whole suite: users, and real out-of-process services (Redis, a Celery worker)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from tests.factories import AdminFactory, InstructorFactory, UserFactory
from trainer.accounts.models import User

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Tests create many users: a fast hasher keeps them quick (production keeps Django's PBKDF2 default)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def learner(db: None) -> User:
    return UserFactory(username="lena")


@pytest.fixture
def other_learner(db: None) -> User:
    return UserFactory(username="otto")


@pytest.fixture
def instructor(db: None) -> User:
    return InstructorFactory(username="ines")


@pytest.fixture
def admin_user(db: None) -> User:
    return AdminFactory(username="root-admin")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def can_sign_in(username: str, password: str) -> bool:
    """Sign in through the real login form (login throttling included)."""
    client = Client()
    client.post("/accounts/login/", {"username": username, "password": password})
    return "_auth_user_id" in client.session


@pytest.fixture
def learner_client(learner: User) -> Client:
    return signed_in(learner)


@pytest.fixture
def instructor_client(instructor: User) -> Client:
    return signed_in(instructor)


def database_url_for_subprocess() -> str:
    """The URL of the database this test run really uses (the test database), for worker processes."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A real Redis: the suite is run with REDIS_URL set (``python3 manage.py testsuite`` does it)."""
    url = settings.REDIS_URL
    if not url:
        pytest.fail("REDIS_URL is not set: run the suite with `python3 manage.py testsuite`, or set REDIS_URL.")
    import redis

    client = redis.Redis.from_url(url)
    client.ping()
    client.flushdb()  # this run owns its Redis database (db 9 by default): start from an empty queue
    return url


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url_for_subprocess(), "PYTHONUNBUFFERED": "1", **extra}
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    return env


class WorkerProcess:
    """A real ``celery worker`` process on the test database and the real broker."""

    def __init__(self, log_path: Path, *, include: tuple[str, ...] = (), env: dict[str, str] | None = None) -> None:
        self.log_path = log_path
        self.include = include  # extra modules the worker imports (e.g. test-only checks)
        self.env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "trainer",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"test-{os.getpid()}@%h",
                *(["--include", ",".join(self.include)] if self.include else []),
            ],
            cwd=ROOT,
            env=subprocess_env(**self.env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        try:
            self.wait_ready()
        except BaseException:
            self.stop()  # a worker that never became ready must not outlive the test and steal later tasks
            raise

    def wait_ready(self, timeout: float = 30) -> None:
        from trainer.core.tasks import ping

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc and self.proc.poll() is None, f"worker died; see {self.log_path}"
            try:
                ping.delay("ready").get(timeout=2)
                return
            except Exception:  # noqa: S112 - not ready yet
                continue
        raise AssertionError(f"worker not ready after {timeout}s; see {self.log_path}")

    def kill(self) -> None:
        """kill -9 the whole worker (main process and its pool children)."""
        import psutil

        assert self.proc
        try:
            parent = psutil.Process(self.proc.pid)
            for p in [*parent.children(recursive=True), parent]:
                p.kill()
        except psutil.NoSuchProcess:
            pass
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


@pytest.fixture
def celery_worker(redis_url: str, transactional_db: None, tmp_path: Path) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(tmp_path / "worker.log")
    worker.start()
    yield worker
    worker.stop()

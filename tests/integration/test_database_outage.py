"""PostgreSQL connections dropped under a real gunicorn: the web answers a clear 503 page (retry advice, no
traceback) while the database refuses connections, and the same request works once it is back. A connection
killed between requests is healed by the connection health check without the learner noticing."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import requests
from django.db import connection
from django.test import Client

from tests.conftest import ROOT, subprocess_env
from trainer.accounts.models import User

pytestmark = [pytest.mark.integration]


@dataclass
class Web:
    url: str
    db_name: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def web(transactional_db: None, tmp_path: Path) -> Iterator[Web]:
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL (DATABASE_URL=postgres://…)")
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "trainer.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=subprocess_env(DEBUG="false", DB_CONN_MAX_AGE="600"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            assert proc.poll() is None, f"gunicorn died; see {tmp_path / 'gunicorn.log'}"
            try:
                requests.get(f"{url}/accounts/login/", timeout=10)
                break
            except requests.RequestException:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        yield Web(url=url, db_name=str(connection.settings_dict["NAME"]))
    finally:
        allow_connections(str(connection.settings_dict["NAME"]), True)  # whatever happened, connections again
        proc.terminate()
        proc.wait(15)
        log.close()


def admin_sql(sql: str, params: list[object] | None = None) -> int:
    """Run SQL on the maintenance database (a database cannot refuse connections to itself)."""
    s = connection.settings_dict
    with (
        psycopg.connect(
            host=s["HOST"] or "127.0.0.1",
            port=s["PORT"] or 5432,
            user=s["USER"],
            password=s["PASSWORD"] or None,
            dbname="postgres",
            autocommit=True,
        ) as admin,
        admin.cursor() as cur,
    ):
        cur.execute(sql, params)
        row = cur.fetchone() if cur.description else None
        return int(row[0]) if row else 0


def drop_web_connections(db_name: str) -> int:
    """pg_terminate_backend on every connection to the test database except this test's own (gunicorn's)."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        own = int(cur.fetchone()[0])
    return admin_sql(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
        [db_name, own],
    )


def allow_connections(db_name: str, allowed: bool) -> None:
    admin_sql(f'ALTER DATABASE "{db_name}" ALLOW_CONNECTIONS {"true" if allowed else "false"}')


@pytest.fixture
def session_cookie(transactional_db: None) -> dict[str, str]:
    user = User.objects.create_user(username="outage", password="x")
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return {"sessionid": client.cookies["sessionid"].value}


def test_connection_killed_between_requests_is_healed(web: Web, session_cookie: dict[str, str]) -> None:
    assert requests.get(f"{web.url}/dashboard/", cookies=session_cookie, timeout=10).status_code == 200
    assert drop_web_connections(web.db_name) >= 1
    again = requests.get(f"{web.url}/dashboard/", cookies=session_cookie, timeout=10)
    assert again.status_code == 200
    assert "Temporarily unavailable" not in again.text


def test_database_refusing_connections_gives_503_page_and_retry_works(web: Web, session_cookie: dict[str, str]) -> None:
    assert requests.get(f"{web.url}/dashboard/", cookies=session_cookie, timeout=10).status_code == 200
    allow_connections(web.db_name, False)
    try:
        assert drop_web_connections(web.db_name) >= 1
        page = requests.get(f"{web.url}/dashboard/", cookies=session_cookie, timeout=10)
        api = requests.get(f"{web.url}/api/me/", cookies=session_cookie, timeout=10)
    finally:
        allow_connections(web.db_name, True)
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "5"
    assert "Temporarily unavailable" in page.text and "try again" in page.text.lower()
    assert "Traceback" not in page.text and "OperationalError" not in page.text
    assert api.status_code == 503 and "database" in api.json()["detail"]

    retry = requests.get(f"{web.url}/dashboard/", cookies=session_cookie, timeout=10)
    assert retry.status_code == 200
    assert "Temporarily unavailable" not in retry.text

"""Web under load: gunicorn (sync workers, DEBUG off) + PostgreSQL, 100 simulated learners (locust, headless)
taking a mock exam and practising, next to a bare Django view on the same stack; SQL queries per page."""

from __future__ import annotations

import csv
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.common import ROOT, Figure, Section, peer_port, port_open, progress, wait_for

USERS = 100
FULL_RUNS = 3
NAMES = {
    "exam question page": "question",
    "exam answer save": "save",
    "practice question page": "practice_page",
    "practice answer save": "practice_save",
    "bare Django view": "bare",
}


def _blueprint() -> Any:
    """A 20-item mock exam over the bundled CIIP bank (published items of every domain)."""
    from trainer.bank.models import Blueprint, BlueprintDomain, ItemDomain, ItemStatus, Track
    from trainer.bank.services import bank_load_bundled

    bank_load_bundled()
    track = Track.objects.get(code="CIIP")
    from trainer.exams.models import ExamAttempt

    ExamAttempt.objects.filter(blueprint__code="bench-web").delete()
    Blueprint.objects.filter(code="bench-web").delete()
    blueprint = Blueprint.objects.create(code="bench-web", track=track, name="Bench web", scored_items=20,
                                         pilot_items=0, time_limit_minutes=600)  # fmt: skip
    available: dict[int, int] = {}
    for domain_id in ItemDomain.objects.filter(domain__track=track, item__status=ItemStatus.PUBLISHED).values_list(
        "domain_id", flat=True
    ):
        available[domain_id] = available.get(domain_id, 0) + 1
    left = 20
    for domain_id, n in sorted(available.items(), key=lambda kv: -kv[1]):
        take = min(left, max(1, n // 3))
        if take > 0:
            BlueprintDomain.objects.create(blueprint=blueprint, domain_id=domain_id, items=take)
            left -= take
    blueprint.scored_items = 20 - left
    blueprint.save()
    return blueprint


def _accounts(work: Path, blueprint: Any) -> tuple[Path, dict[str, int]]:
    """100 learners with a started exam and practice session, signed in (session cookie) without the login
    page (its password hashing is not what is measured)."""
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from trainer.accounts.models import User
    from trainer.exams.models import ExamAttempt
    from trainer.exams.services import exam_start
    from trainer.practice.services import practice_session_start

    accounts = []
    queries: dict[str, int] = {}
    for i in range(USERS):
        learner, _ = User.objects.get_or_create(username=f"bench-web-{i}", defaults={"exam_track": "CIIP"})
        ExamAttempt.objects.filter(learner=learner).delete()
        attempt = exam_start(learner=learner, blueprint=blueprint)
        session = practice_session_start(learner=learner, track=blueprint.track, mode="smart", count=100)
        client = Client(SERVER_NAME="127.0.0.1")
        client.force_login(learner)
        csrf = secrets.token_hex(16)  # a 32-character secret: Django accepts it unmasked as cookie and header
        accounts.append({"session": client.cookies["sessionid"].value, "csrf": csrf, "attempt": attempt.pk,
                         "questions": attempt.attempt_items.count(), "session_pk": session.pk})  # fmt: skip
        if i == 0:  # SQL queries per page, on the same data the load test uses
            client.cookies["csrftoken"] = csrf
            for name, method, url in (
                ("question", "get", f"/exams/attempts/{attempt.pk}/q/1/"),
                ("save", "post", f"/exams/attempts/{attempt.pk}/q/1/save/"),
                ("practice_page", "get", f"/practice/sessions/{session.pk}/"),
            ):
                reset_queries()  # the log is capped (9 000): once full, a capture would count nothing
                with CaptureQueriesContext(connection) as ctx:
                    response = getattr(client, method)(url, {"flagged": "0"} if method == "post" else None,
                                                       HTTP_X_CSRFTOKEN=csrf, HTTP_HX_REQUEST="true")  # fmt: skip
                if response.status_code >= 400:
                    raise RuntimeError(f"{url} answered {response.status_code}")
                queries[name] = len(ctx.captured_queries)
    path = work / "web-accounts.json"
    path.write_text(json.dumps(accounts))
    return path, queries


def _warm(port: int, account: dict[str, Any]) -> None:
    """A few requests per worker before measuring, so no figure includes a worker's first-request set-up."""
    import http.client

    for _ in range(8 * (os.cpu_count() or 1)):
        for path in ("/bench/bare/", f"/exams/attempts/{account['attempt']}/q/1/"):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", path, headers={"Cookie": f"sessionid={account['session']}"})
            conn.getresponse().read()
            conn.close()


def _load(work: Path, accounts: Path, *, seconds: int, r: int) -> dict[str, dict[str, float]]:
    port = peer_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.web_settings",
        "DEBUG": "0",
        "BENCH_WEB_ACCOUNTS": str(accounts),
    }
    log = (work / f"gunicorn-{r}.log").open("ab")
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "trainer.wsgi", "--workers", str(2 * (os.cpu_count() or 1)),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--preload"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for(lambda: port_open(port), timeout=60, what="gunicorn")
        _warm(port, json.loads(accounts.read_text())[0])
        prefix = work / f"locust-{r}"
        subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
             "-u", str(USERS), "-r", "20", "--reset-stats", "-t", f"{seconds + 5}s", "--host", f"http://127.0.0.1:{port}",
             "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "5"],
            cwd=ROOT, env=env, capture_output=True, check=False, timeout=seconds + 120,
        )  # fmt: skip
        out: dict[str, dict[str, float]] = {}
        with (work / f"locust-{r}_stats.csv").open() as fh:
            for row in csv.DictReader(fh):
                key = NAMES.get(row["Name"], "")
                if key:
                    out[key] = {"p50": float(row["50%"]), "p95": float(row["95%"]), "p99": float(row["99%"]),
                                "requests": float(row["Request Count"]), "failures": float(row["Failure Count"]),
                                "rps": float(row["Requests/s"])}  # fmt: skip
            return out
    finally:
        gunicorn.terminate()
        gunicorn.wait(30)


def run(work: Path, *, quick: bool, runs: int) -> Section:
    progress("web: content and 100 signed-in learners")
    blueprint = _blueprint()
    accounts, queries = _accounts(work, blueprint)
    seconds = 20 if quick else 60
    per_run = []
    for r in range(runs):
        progress(f"web: run {r + 1}/{runs}, {USERS} users for {seconds} s")
        per_run.append(_load(work, accounts, seconds=seconds, r=r))
    figures: list[Figure] = []
    bare = [run["bare"]["p95"] for run in per_run if "bare" in run]
    labels = {"question": "Exam question page", "save": "Exam answer save (htmx)",
              "practice_page": "Practice question page", "practice_save": "Practice answer save (htmx)",
              "bare": "Bare Django view (baseline)"}  # fmt: skip
    for key, label in labels.items():
        rows = [run[key] for run in per_run if key in run]
        if not rows:
            continue
        p95 = Figure(f"web_{key}_p95", f"{label}: p95", "ms", [x["p95"] for x in rows])
        if key != "bare":
            p95.target = "< 150, zero errors"
            errors = sum(x["failures"] for x in rows)
            p95.met = p95.median < 150 and errors == 0
            if bare:
                from bench.common import with_peer

                with_peer(p95, "bare Django view p95", bare)
        figures += [
            Figure(f"web_{key}_p50", f"{label}: p50", "ms", [x["p50"] for x in rows]),
            p95,
            Figure(f"web_{key}_p99", f"{label}: p99", "ms", [x["p99"] for x in rows]),
            Figure(f"web_{key}_errors", f"{label}: errors / requests", "errors", [x["failures"] for x in rows],
                   note=f"{sum(x['requests'] for x in rows):.0f} requests"),
        ]  # fmt: skip
    for name, count in queries.items():
        figures.append(Figure(f"sql_{name}", f"SQL queries: {labels[name].split(':')[0]}", "queries", [count]))
    total_rps = [sum(v["rps"] for v in run.values()) for run in per_run]
    figures.append(Figure("web_rps", "Requests/s served (all kinds)", "req/s", total_rps, better="higher"))
    reading = (
        f"{USERS} learners each clicking every 3–10 s (brisk: a learner reading a question takes longer) against "
        f"{2 * (os.cpu_count() or 1)} gunicorn sync workers; locust runs on the same 2 cores and takes its share. "
        "The bare view measures the stack itself (gunicorn, middleware, session lookup): what a page costs above "
        "it is the page's own work. The query counts come from Django's test client on the same data."
    )
    return Section("web", "Web under load (gunicorn + PostgreSQL, locust)", figures, reading,
                   {"users": USERS, "seconds": seconds})  # fmt: skip

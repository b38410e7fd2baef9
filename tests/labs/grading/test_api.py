"""The lab API (/api/labs/): a script can list labs, start one, read its node and peers, request a check, read
the results, reset and finish; nobody else's attempt or run is visible."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests
from django.utils import timezone

from labs.grading.models import AttemptStatus, GradingRun, LabAttempt
from tests.conftest import signed_in
from tests.factories import DEFAULT_PASSWORD
from tests.labs.fixtures import dcmtk, wait_for

ECHO = "verify-connectivity-echo"


@pytest.fixture
def no_grading(monkeypatch):
    from labs.grading import tasks

    monkeypatch.setattr(tasks.grade, "delay", lambda run_id: None)


def test_list_start_and_read_the_attempts_node(learner):
    client = signed_in(learner)
    labs = client.get("/api/labs/").json()
    echo = next(lab for lab in labs if lab["slug"] == ECHO)
    assert echo["total_points"] == 3 and echo["time_limit_minutes"] > 0
    started = client.post(f"/api/labs/{ECHO}/start/")
    assert started.status_code == 200
    body = started.json()
    assert body["status"] == "active" and body["is_open"] and body["max_score"] == 3
    assert 0 < body["seconds_left"] <= echo["time_limit_minutes"] * 60
    node = body["node"]
    assert node["ae_title"] == "ECHO_PACS" and node["host"] and node["port"] > 0 and body["peers"] == []
    assert client.post(f"/api/labs/{ECHO}/start/").json()["id"] == body["id"]  # resumes
    assert client.get(f"/api/labs/attempts/{body['id']}/").json()["node"]["port"] == node["port"]
    assert [a["id"] for a in client.get("/api/labs/attempts/").json()] == [body["id"]]
    assert client.post("/api/labs/no-such-lab/start/").status_code == 404


def test_another_learner_gets_404_for_my_attempt_and_run(learner, other_learner, no_grading):
    mine = signed_in(learner)
    attempt = mine.post(f"/api/labs/{ECHO}/start/").json()
    run = mine.post(f"/api/labs/attempts/{attempt['id']}/check/").json()
    other = signed_in(other_learner)
    for url in (f"/api/labs/attempts/{attempt['id']}/", f"/api/labs/runs/{run['id']}/"):
        assert other.get(url).status_code == 404
    for action in ("check", "reset", "finish"):
        assert other.post(f"/api/labs/attempts/{attempt['id']}/{action}/").status_code == 404
    assert other.get("/api/labs/attempts/").json() == []
    assert LabAttempt.objects.get(pk=attempt["id"]).is_open


def test_after_the_deadline_a_check_is_refused_with_a_clear_message(learner, no_grading):
    client = signed_in(learner)
    attempt = client.post(f"/api/labs/{ECHO}/start/").json()
    LabAttempt.objects.filter(pk=attempt["id"]).update(deadline=timezone.now() - timedelta(seconds=1))
    refused = client.post(f"/api/labs/attempts/{attempt['id']}/check/")
    assert refused.status_code == 409 and "Time is up" in refused.json()["detail"]
    assert not GradingRun.objects.filter(attempt_id=attempt["id"]).exists()
    after = client.get(f"/api/labs/attempts/{attempt['id']}/").json()
    assert (after["status"], after["is_open"], after["node"], after["seconds_left"]) == ("expired", False, None, None)
    assert client.post(f"/api/labs/attempts/{attempt['id']}/reset/").status_code == 409


def test_anonymous_scripts_are_refused(db):
    from django.test import Client

    assert Client().get("/api/labs/").status_code == 403


@pytest.mark.integration
def test_a_script_does_a_lab_end_to_end_through_the_api(learner, other_learner, nodehost, celery_worker, live_server):
    """Like a learner's script: HTTP basic auth against a live server, DCMTK against the node the API names, a
    real worker grading through Redis."""
    api = requests.Session()
    api.auth = (learner.username, DEFAULT_PASSWORD)
    base = f"{live_server.url}/api/labs"

    def call(method: str, path: str, expect: int = 200) -> Any:
        response = api.request(method, f"{base}{path}", timeout=30)
        assert response.status_code == expect, response.text
        return response.json()

    assert ECHO in {lab["slug"] for lab in call("GET", "/")}
    attempt = call("POST", f"/{ECHO}/start/")
    aid = attempt["id"]

    def node_running() -> dict[str, Any] | None:
        node = call("GET", f"/attempts/{aid}/")["node"]
        return node if node["state"] == "running" else None

    node = wait_for(node_running, timeout=30, what="the lab node running")
    echo = dcmtk("echoscu", "-v", "-aet", "LEARNER_SCU", "-aec", node["ae_title"], node["host"], str(node["port"]))
    assert echo.returncode == 0, echo.stdout
    nodehost.flush()  # the host's log writer has recorded the association

    def graded(run_id: int) -> dict[str, Any] | None:
        run = call("GET", f"/runs/{run_id}/")
        return run if run["status"] in ("done", "failed") else None

    run = call("POST", f"/attempts/{aid}/check/", expect=202)
    assert run["status"] == "queued" and run["total_checks"] == 2
    done = wait_for(lambda: graded(run["id"]), timeout=90, what="the worker to grade the run")
    assert (done["status"], done["score"], done["max_score"], done["progress"]) == ("done", 3, 3, 100)
    assert all(r["passed"] and "LEARNER_SCU" in r["evidence"] for r in done["results"])

    reset = call("POST", f"/attempts/{aid}/reset/")
    assert reset["node"]["port"] == node["port"] and reset["node"]["id"] != node["id"] and reset["reset_at"]
    again = call("POST", f"/attempts/{aid}/check/", expect=202)
    after_reset = wait_for(lambda: graded(again["id"]), timeout=90, what="the worker to grade the second run")
    assert after_reset["score"] == 0  # the echo before the reset no longer counts
    assert all(r["hint"] for r in after_reset["results"])

    finished = call("POST", f"/attempts/{aid}/finish/")
    assert (finished["status"], finished["best_score"], finished["node"]) == (AttemptStatus.FINISHED, 3, None)
    refused = call("POST", f"/attempts/{aid}/check/", expect=409)
    assert "finished" in refused["detail"]

    stranger = requests.get(f"{base}/runs/{run['id']}/", auth=(other_learner.username, DEFAULT_PASSWORD), timeout=30)
    assert stranger.status_code == 404

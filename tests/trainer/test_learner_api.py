"""The learner API: same services as the pages, and no key before it is allowed."""

import json

import pytest
from django.test import Client

from tests.conftest import signed_in
from tests.trainer.exams.conftest import small_blueprint  # noqa: F401
from tests.trainer.practice.conftest import RATIONALE_MARK, bank  # noqa: F401

pytestmark = pytest.mark.django_db


def post(client: Client, url: str, data: dict | None = None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def test_practice_through_the_api_withholds_the_key_until_answered(bank, learner_client: Client):  # noqa: F811
    session = post(learner_client, "/api/practice/sessions/", {"track": "CDIP", "count": 2}).json()
    current = learner_client.get(f"/api/practice/sessions/{session['id']}/current/")
    assert RATIONALE_MARK not in current.content.decode()
    assert current.json()["feedback"] is None
    item_id = current.json()["item_id"]
    answered = post(
        learner_client,
        f"/api/practice/sessions/{session['id']}/answer/",
        {"item_id": item_id, "response": {"choice": "b"}},
    )
    assert answered.status_code == 200
    assert answered.json()["feedback"]["correct"] is True
    assert RATIONALE_MARK in answered.content.decode()
    bad = post(learner_client, f"/api/practice/sessions/{session['id']}/next/")
    assert bad.json()["position"] == 1
    assert learner_client.get("/api/practice/reviews/due/").json() == {"due": 0}
    readiness = learner_client.get("/api/practice/readiness/?track=CDIP").json()
    assert {m["code"] for m in readiness} >= {"networking", "dicomweb"}


def test_exam_through_the_api_report_only_after_submission(small_blueprint, learner_client: Client, other_learner):  # noqa: F811
    attempt = post(learner_client, "/api/exams/attempts/", {"blueprint": small_blueprint.code}).json()
    url = f"/api/exams/attempts/{attempt['id']}"
    question = learner_client.get(f"{url}/questions/1/")
    assert RATIONALE_MARK not in question.content.decode()
    saved = learner_client.put(
        f"{url}/questions/1/",
        json.dumps({"response": {"choice": "b"}, "flagged": True}),
        content_type="application/json",
    )
    assert saved.json()["response"] == {"choice": "b"} and saved.json()["flagged"] is True
    assert learner_client.get(f"{url}/report/").status_code == 403
    assert signed_in(other_learner).get(f"{url}/").status_code == 404
    post(learner_client, f"{url}/submit/")
    report = learner_client.get(f"{url}/report/")
    assert report.status_code == 200
    assert RATIONALE_MARK in report.content.decode()
    late = learner_client.put(
        f"{url}/questions/2/", json.dumps({"response": {"choice": "b"}}), content_type="application/json"
    )
    assert late.status_code == 409

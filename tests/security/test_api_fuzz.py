"""schemathesis over the OpenAPI schema (/api/schema/), as an instructor and as a learner: whatever the body,
query or path, the API never answers a server error (5xx).

CI runs a short campaign; a long one:
    API_FUZZ_EXAMPLES=500 .venv/bin/python -m pytest -q tests/security/test_api_fuzz.py"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.factories import InstructorFactory, UserFactory

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "5"))
PASSWORD = "fuzz-pass-1"


def load_schema() -> Any:
    """The schema /api/schema/ serves (drf-spectacular's generator, rendered as JSON), bound to the real WSGI
    application, so every generated request goes through the whole middleware stack."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    from trainer.wsgi import application

    document = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = application
    loaded.location = "/api/schema/"
    return loaded


schema = load_schema()


@pytest.fixture(autouse=True)
def _keep_test_connection() -> Iterator[None]:
    """As Django's test client does, the request signals must not close the test's database connection (which
    holds the test transaction)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def basic_auth(user: Any) -> dict[str, str]:
    user.set_password(PASSWORD)
    user.save()
    token = base64.b64encode(f"{user.username}:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def as_instructor(db: None) -> dict[str, str]:
    return basic_auth(InstructorFactory(username="fuzz-instructor"))


@pytest.fixture
def as_learner(db: None) -> dict[str, str]:
    return basic_auth(UserFactory(username="fuzz-learner"))


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)


def assert_no_server_error(case: Any, headers: dict[str, str]) -> None:
    response = case.call(headers=headers)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path}: {response.status_code}\n{response.text[:2000]}"
    )


@schema.parametrize()
@FUZZ
def test_the_api_never_answers_a_server_error_to_an_instructor(case: Any, as_instructor: dict[str, str]) -> None:
    assert_no_server_error(case, as_instructor)


@schema.parametrize()
@FUZZ
def test_the_api_never_answers_a_server_error_to_a_learner(case: Any, as_learner: dict[str, str]) -> None:
    assert_no_server_error(case, as_learner)

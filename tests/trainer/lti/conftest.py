from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from django.test import Client

from tests.trainer.exams.conftest import small_blueprint  # noqa: F401
from tests.trainer.lti.fake_platform import FakePlatform
from tests.trainer.practice.conftest import bank  # noqa: F401
from trainer.courses.models import Assignment, AssignmentKind, Course
from trainer.lti.selectors import tool_jwks


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform(tool_jwks=tool_jwks)


@pytest.fixture
def lms(platform: FakePlatform) -> Iterator[FakePlatform]:
    """The platform answering the tool's HTTP calls in this process."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        platform.mock(rsps)
        yield platform


@pytest.fixture
def registration(lms: FakePlatform, bank):  # noqa: F811
    return lms.register()


@pytest.fixture
def browser() -> Client:
    return Client()


def linked_course() -> Course:
    """The course the simulated platform's context C1 is linked to."""
    return Course.objects.get(lti_contexts__context__id_on_platform="C1")


def make_exam(course: Course, blueprint, title: str = "Midterm") -> Assignment:
    return Assignment.objects.create(course=course, title=title, kind=AssignmentKind.EXAM, blueprint=blueprint,
                                     points=50)  # fmt: skip


@pytest.fixture(autouse=True)
def _lti_settings(settings) -> None:
    settings.LTI_DEFAULT_TRACK = "CDIP"
    settings.LTI_PASSBACK_RETRY_BASE_SECONDS = 0.0

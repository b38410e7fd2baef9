"""Names and Role Provisioning Services: every page of the roster (Link: rel="next") enrols or updates members."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.trainer.lti.conftest import linked_course
from tests.trainer.lti.fake_platform import INSTRUCTOR, LEARNER, TEACHING_ASSISTANT
from trainer.courses.models import Enrollment
from trainer.lti.models import CourseContext, LtiIdentity
from trainer.lti.services import roster_sync
from trainer.lti.tasks import roster_sync as roster_sync_task

pytestmark = pytest.mark.django_db


def member(sub: str, roles: list[str], status: str = "Active") -> dict:
    return {"user_id": sub, "roles": roles, "status": status, "name": f"Person {sub}", "email": f"{sub}@example.edu"}


@pytest.fixture
def lms_course(lms, registration):
    browser = Client()
    lms.launch(browser, registration, sub="prof", roles=[INSTRUCTOR])
    return browser, CourseContext.objects.get()


def test_a_two_page_roster_enrols_everyone_with_their_role(lms, lms_course):
    _, link = lms_course
    lms.members = [
        member("prof", [INSTRUCTOR]), member("ta-1", [TEACHING_ASSISTANT]),
        member("stud-1", [LEARNER]), member("stud-2", ["Learner"]), member("gone", [LEARNER], status="Inactive"),
    ]  # fmt: skip
    lms.page_size = 3
    report = roster_sync(course_context_id=link.pk)
    assert (report.pages, report.members) == (2, 5)
    course = linked_course()
    roles = dict(Enrollment.objects.filter(course=course).values_list("user__lti_identities__sub", "role"))
    assert roles == {"prof": "instructor", "ta-1": "assistant", "stud-1": "learner", "stud-2": "learner"}
    assert not LtiIdentity.objects.filter(sub="gone").exists()
    assert len(report.created) == 3 and len(report.enrolled) == 3
    # the second page's URL was followed exactly as given (mixed case), with a bearer token from the NRPS scope
    assert "contextmembership.readonly" in lms.token_requests[0]["scope"]


def test_a_sync_updates_roles_and_is_idempotent(lms, lms_course):
    _, link = lms_course
    lms.members = [member("stud-1", [LEARNER])]
    roster_sync(course_context_id=link.pk)
    lms.members = [member("stud-1", [TEACHING_ASSISTANT])]
    report = roster_sync(course_context_id=link.pk)
    assert report.created == [] and report.enrolled == [] and len(report.updated) == 1
    assert Enrollment.objects.get(user__lti_identities__sub="stud-1").role == "assistant"
    again = roster_sync_task.apply(args=(link.pk,)).get()
    assert again["created"] == again["enrolled"] == again["updated"] == []


def test_the_course_page_offers_the_sync_button_to_instructors(lms, lms_course, django_capture_on_commit_callbacks):
    browser, _ = lms_course
    course = linked_course()
    page = browser.get(reverse("courses:detail", args=[course.code]), secure=True).content.decode()
    assert "Sync roster from the LMS" in page
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = browser.post(reverse("lti:roster-sync", args=[course.code]), secure=True)
    assert response.status_code == 302 and len(callbacks) == 1


def test_learners_cannot_sync(lms, registration, lms_course):
    learner = Client()
    lms.launch(learner, registration, sub="stud-9", roles=[LEARNER])
    assert learner.post(reverse("lti:roster-sync", args=[linked_course().code]), secure=True).status_code == 404

"""OIDC login → signed id_token launch → user provisioned by (issuer, sub), course linked to the context,
enrolled with the mapped role, landing on the assignment; bad tokens refused with a clear error."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from tests.factories import UserFactory
from tests.trainer.lti.conftest import linked_course, make_exam
from tests.trainer.lti.fake_platform import INSTRUCTOR, LEARNER, TEACHING_ASSISTANT, FakePlatform, new_key
from trainer.accounts.models import User
from trainer.courses.models import CourseRole, Enrollment
from trainer.lti.models import CourseContext, LtiIdentity, ResourceLinkAssignment
from trainer.lti.services import course_role_from_lti

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["get", "post"])
def test_oidc_login_redirects_to_the_platform_with_state_nonce_and_our_launch_url(lms, registration, browser, method):
    auth = lms.login(browser, registration, method=method)
    assert auth["client_id"] == lms.client_id
    assert auth["response_type"] == "id_token" and auth["response_mode"] == "form_post"
    assert auth["scope"] == "openid" and auth["prompt"] == "none"
    assert auth["login_hint"] == "hint-123" and auth["lti_message_hint"] == "msg-456"
    assert urlsplit(auth["redirect_uri"]).path == reverse("lti:launch")
    assert auth["state"] and auth["nonce"]
    assert browser.cookies[f"lti1p3-{auth['state']}"]["samesite"] == "None"


def test_an_unknown_registration_cannot_start_a_login(lms, registration, browser):
    response = browser.get("/lti/login/00000000-0000-0000-0000-000000000000/", {"iss": lms.issuer}, secure=True)
    assert response.status_code == 404


def test_a_learner_launch_provisions_enrols_and_lands_on_the_bound_assignment(
    lms, registration, browser, small_blueprint
):
    first = lms.launch(browser, registration, sub="s-1", roles=[INSTRUCTOR], resource_link_id="setup")
    assert first.status_code == 302
    course = linked_course()
    exam = make_exam(course, small_blueprint)
    learner_browser = type(browser)()
    response = lms.launch(
        learner_browser, registration, sub="s-2", roles=[LEARNER], email="lena@example.org",
        custom={"pacs_trainer_assignment": str(exam.pk)}, lineitem=lms.lineitem_url(),
    )  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == reverse("lti:assignment", args=[exam.pk])
    identity = LtiIdentity.objects.get(issuer=lms.issuer, sub="s-2")
    user = identity.user
    assert user.email == "lena@example.org" and not user.has_usable_password()
    assert Enrollment.objects.get(course=course, user=user).role == CourseRole.LEARNER
    assert Enrollment.objects.get(course=course, user=user).source == Enrollment.Source.LTI
    binding = ResourceLinkAssignment.objects.get(assignment=exam)
    assert binding.line_item is not None and binding.line_item.url == lms.lineitem_url()
    page = learner_browser.get(response["Location"], secure=True)
    assert page.status_code == 200
    assert "Midterm" in page.content.decode() and "Start mock exam" in page.content.decode()
    assert learner_browser.session["_auth_user_id"] == str(user.pk)


def test_the_same_person_is_linked_by_issuer_and_sub_never_by_email(lms, registration, browser):
    existing = UserFactory.create(username="lena", email="lena@example.org")
    lms.launch(browser, registration, sub="s-9", email="lena@example.org")
    lms.launch(type(browser)(), registration, sub="s-9", email="lena@example.org")
    users = User.objects.filter(lti_identities__sub="s-9")
    assert users.count() == 1
    assert users.get() != existing
    assert LtiIdentity.objects.filter(sub="s-9").count() == 1


def test_the_context_is_linked_to_one_course_and_roles_are_mapped(lms, registration):
    from django.test import Client

    for sub, roles in (("t-1", [INSTRUCTOR]), ("t-2", [TEACHING_ASSISTANT]), ("t-3", [LEARNER])):
        assert lms.launch(Client(), registration, sub=sub, roles=roles).status_code == 302
    assert CourseContext.objects.count() == 1
    course = linked_course()
    by_sub = dict(Enrollment.objects.filter(course=course).values_list("user__lti_identities__sub", "role"))
    assert by_sub == {"t-1": "instructor", "t-2": "assistant", "t-3": "learner"}
    assert course.track.code == "CDIP" and course.title == "PACS Administration 101"
    instructor = User.objects.get(lti_identities__sub="t-1")
    assert instructor.is_instructor


def test_role_mapping_reads_full_and_short_lti_roles():
    assert course_role_from_lti([INSTRUCTOR]) == "instructor"
    assert course_role_from_lti(["Instructor"]) == "instructor"
    assert course_role_from_lti([TEACHING_ASSISTANT, INSTRUCTOR]) == "instructor"
    assert course_role_from_lti([TEACHING_ASSISTANT]) == "assistant"
    assert course_role_from_lti([LEARNER]) == "learner"
    assert course_role_from_lti(["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor"]) == "learner"
    assert course_role_from_lti([]) == "learner"


def _launch_with(lms: FakePlatform, browser, registration, **kwargs):
    auth = lms.login(browser, registration)
    token = lms.id_token(nonce=auth["nonce"], **kwargs)
    return browser.post(reverse("lti:launch"), {"id_token": token, "state": auth["state"]}, secure=True)


def test_a_forged_token_is_refused(lms, registration, browser):
    _, other_pem = new_key("platform-key-1")  # same kid, not the platform's key
    response = _launch_with(lms, browser, registration, key_pem=other_pem)
    assert response.status_code == 400
    assert "signature does not match" in response.content.decode()
    assert not LtiIdentity.objects.exists()


def test_an_expired_token_is_refused(lms, registration, browser):
    response = _launch_with(lms, browser, registration, exp_in=-60)
    assert response.status_code == 400
    assert "has expired" in response.content.decode()


def test_a_token_for_another_tool_is_refused(lms, registration, browser):
    response = _launch_with(lms, browser, registration, aud="some-other-tool")
    assert response.status_code == 400
    assert "audience (aud)" in response.content.decode()


def test_several_audiences_need_azp_naming_the_tool(lms, registration, browser):
    response = _launch_with(lms, browser, registration, aud=[lms.client_id, "another"])
    assert response.status_code == 403
    assert "azp" in response.content.decode()


def test_a_replayed_launch_is_refused(lms, registration, browser):
    auth = lms.login(browser, registration)
    token = lms.id_token(nonce=auth["nonce"])
    assert (
        browser.post(reverse("lti:launch"), {"id_token": token, "state": auth["state"]}, secure=True).status_code == 302
    )
    again = browser.post(reverse("lti:launch"), {"id_token": token, "state": auth["state"]}, secure=True)
    assert again.status_code == 403
    assert "already used" in again.content.decode()


def test_a_launch_without_the_state_cookie_is_refused(lms, registration, browser):
    from django.test import Client

    auth = lms.login(browser, registration)
    token = lms.id_token(nonce=auth["nonce"])
    response = Client().post(reverse("lti:launch"), {"id_token": token, "state": auth["state"]}, secure=True)
    assert response.status_code == 400
    assert "did not send the login cookies" in response.content.decode()


def test_an_inactive_deployment_is_refused(lms, bank, browser):
    registration = lms.register(active_deployment=False)
    response = lms.launch(browser, registration)
    assert response.status_code == 403
    assert "not activated" in response.content.decode()
    assert not LtiIdentity.objects.exists()


def test_an_unknown_deployment_id_is_refused(lms, registration, browser):
    lms.deployment_id = "deployment-unknown"
    response = lms.launch(browser, registration)
    assert response.status_code == 403
    assert "deployment-unknown" in response.content.decode()


def test_a_link_to_another_courses_assignment_lands_on_the_course(lms, registration, browser, small_blueprint):
    from trainer.courses.models import Course

    other = Course.objects.create(title="Other", code="other", track=small_blueprint.track)
    foreign = make_exam(other, small_blueprint)
    response = lms.launch(browser, registration, custom={"pacs_trainer_assignment": str(foreign.pk)})
    assert response["Location"] == reverse("courses:detail", args=[linked_course().code])
    assert not ResourceLinkAssignment.objects.exists()


def test_pages_of_an_lti_session_may_be_framed_by_the_platform_only(lms, registration, browser, learner_client):
    response = lms.launch(browser, registration)
    for name in ("sessionid", "csrftoken"):
        assert response.cookies[name]["samesite"] == "None" and response.cookies[name]["secure"], name
    page = browser.get(response["Location"], secure=True)
    assert "X-Frame-Options" not in page
    assert f"frame-ancestors {lms.base}" in page["Content-Security-Policy"]
    normal = learner_client.get(reverse("courses:list"), secure=True)
    assert normal["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in normal["Content-Security-Policy"]


def test_launch_errors_can_be_shown_inside_any_lms_frame(lms, registration, browser):
    response = _launch_with(lms, browser, registration, exp_in=-60)
    assert "X-Frame-Options" not in response
    assert "frame-ancestors *" in response["Content-Security-Policy"]

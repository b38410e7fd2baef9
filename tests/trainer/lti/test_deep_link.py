"""Deep linking: an instructor picks assignments; the signed LtiDeepLinkingResponse verifies with the tool's
published JWKS and carries ltiResourceLink items whose custom parameter brings a later launch to the assignment."""

from __future__ import annotations

import re

import jwt
import pytest
from django.test import Client
from django.urls import reverse
from jwcrypto.jwk import JWK

from tests.trainer.lti.conftest import linked_course, make_exam
from tests.trainer.lti.fake_platform import INSTRUCTOR, LEARNER, LTI

pytestmark = pytest.mark.django_db

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"


def verify_with_tool_jwks(client: Client, token: str) -> dict:
    keys = client.get(reverse("lti:jwks")).json()["keys"]
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in keys if k["kid"] == kid)
    public = JWK(**jwk).export_to_pem().decode()
    return jwt.decode(token, public, algorithms=["RS256"], audience="https://lms.example.edu")


def jwt_in(html: str) -> str:
    match = re.search(r'name="JWT" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def deep_link_launch(lms, registration, browser, **kwargs):
    return lms.launch(browser, registration, message_type="LtiDeepLinkingRequest", **kwargs)


def test_an_instructor_places_assignments_and_the_response_verifies_with_the_tool_jwks(
    lms, registration, browser, small_blueprint
):
    response = deep_link_launch(lms, registration, browser, sub="prof", roles=[INSTRUCTOR])
    assert response["Location"] == reverse("lti:deep-link")
    course = linked_course()
    midterm = make_exam(course, small_blueprint, "Midterm")
    final = make_exam(course, small_blueprint, "Final")
    picker = browser.get(reverse("lti:deep-link"), secure=True).content.decode()
    assert "Midterm" in picker and "Final" in picker
    page = browser.post(reverse("lti:deep-link"), {"assignment": [midterm.pk, final.pk]}, secure=True)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'action="https://lms.example.edu/deep_links"' in html
    assert "form-action 'self' https://lms.example.edu" in page["Content-Security-Policy"]
    token = jwt_in(html)
    claims = verify_with_tool_jwks(Client(), token)
    assert claims["iss"] == lms.client_id
    assert claims[LTI + "message_type"] == "LtiDeepLinkingResponse"
    assert claims[LTI + "deployment_id"] == lms.deployment_id
    assert claims[DL + "data"] == "opaque-platform-data"
    items = claims[DL + "content_items"]
    assert [i["type"] for i in items] == ["ltiResourceLink", "ltiResourceLink"]
    assert [i["custom"] for i in items] == [
        {"pacs_trainer_assignment": str(midterm.pk)},
        {"pacs_trainer_assignment": str(final.pk)},
    ]
    assert items[0]["url"].endswith(reverse("lti:launch"))
    assert items[0]["lineItem"] == {"scoreMaximum": 50.0, "label": "Midterm", "resourceId": f"assignment-{midterm.pk}"}
    # the request is answered once
    assert browser.get(reverse("lti:deep-link"), secure=True).status_code == 400

    # the platform now launches the placed link: the learner lands on the assignment
    learner = Client()
    landed = lms.launch(learner, registration, sub="stud", roles=[LEARNER], resource_link_id="placed-1",
                        custom=items[0]["custom"], lineitem=lms.lineitem_url(7))  # fmt: skip
    assert landed["Location"] == reverse("lti:assignment", args=[midterm.pk])


def test_cancel_returns_an_empty_response(lms, registration, browser):
    deep_link_launch(lms, registration, browser, sub="prof", roles=[INSTRUCTOR])
    html = browser.post(reverse("lti:deep-link"), {"cancel": "1"}, secure=True).content.decode()
    token = jwt_in(html)
    assert verify_with_tool_jwks(Client(), token)[DL + "content_items"] == []


def test_learners_cannot_deep_link(lms, registration, browser):
    response = deep_link_launch(lms, registration, browser, sub="stud", roles=[LEARNER])
    assert response.status_code == 403
    assert "instructors" in response.content.decode()

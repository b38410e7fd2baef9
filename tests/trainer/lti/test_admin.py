"""Platforms are registered in the Django admin, which shows the URLs to give the LMS."""

from __future__ import annotations

import pytest
from django.urls import reverse
from lti_tool.models import LtiDeployment, LtiRegistration

from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_an_admin_registers_a_platform_with_deployments_and_sees_the_tool_urls(admin_user):
    client = signed_in(admin_user)
    form = {
        "name": "Canvas", "uuid": "5f2c2b49-6d0e-4e0a-9d55-3f0a2b1c0d11", "issuer": "https://canvas.instructure.com",
        "client_id": "10000000000001", "audience": "", "auth_url": "https://sso.canvaslms.com/api/lti/authorize_redirect",
        "token_url": "https://sso.canvaslms.com/login/oauth2/token",
        "keyset_url": "https://sso.canvaslms.com/api/lti/security/jwks", "is_active": "on",
        "public_key": "", "private_key": "",
        "deployments-TOTAL_FORMS": "1", "deployments-INITIAL_FORMS": "0",
        "deployments-0-deployment_id": "1:abc", "deployments-0-is_active": "on",
        "trainer_options-TOTAL_FORMS": "1", "trainer_options-INITIAL_FORMS": "0",
        "trainer_options-0-frame_origins": "https://school.instructure.com",
    }  # fmt: skip
    response = client.post(reverse("admin:lti_tool_ltiregistration_add"), form)
    assert response.status_code == 302, response.content.decode()[-3000:]
    registration = LtiRegistration.objects.get()
    assert LtiDeployment.objects.get(registration=registration).is_active
    assert registration.trainer_options.frame_origins == "https://school.instructure.com"
    page = client.get(reverse("admin:lti_tool_ltiregistration_change", args=[registration.pk])).content.decode()
    assert f"/lti/login/{registration.uuid}/" in page and "/lti/launch/" in page and "/lti/jwks.json" in page

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_sign_in(client: Client):
    for name in ("core:dashboard", "core:teach", "accounts:profile"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_a_learner_cannot_open_instructor_pages(learner_client: Client):
    assert learner_client.get(reverse("core:teach")).status_code == 403


def test_a_learner_sees_the_learner_dashboard(learner_client: Client):
    body = learner_client.get(reverse("core:dashboard")).content.decode()
    assert "Your dashboard" in body
    assert 'href="/teach/"' not in body


def test_an_instructor_is_taken_to_the_instructor_dashboard(instructor_client: Client):
    response = instructor_client.get(reverse("core:dashboard"))
    assert response.status_code == 302
    assert response["Location"] == reverse("core:teach")
    assert instructor_client.get(reverse("core:teach")).status_code == 200


def test_only_staff_reach_the_django_admin(learner_client: Client, admin_user):
    assert learner_client.get("/admin/").status_code == 302
    from tests.conftest import signed_in

    assert signed_in(admin_user).get("/admin/").status_code == 200


def test_the_api_says_who_is_signed_in_and_refuses_anonymous(client: Client, learner_client: Client):
    assert client.get("/api/me/").status_code == 403
    assert learner_client.get("/api/me/").json()["username"] == "lena"


def test_the_openapi_schema_is_served():
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    assert b"openapi" in response.content


def test_the_openapi_schema_validates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/practice/sessions/" in (tmp_path / "schema.yaml").read_text()

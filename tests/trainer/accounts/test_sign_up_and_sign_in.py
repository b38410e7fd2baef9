import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.conftest import can_sign_in
from tests.factories import DEFAULT_PASSWORD, UserFactory
from trainer.accounts.models import Role, User

pytestmark = pytest.mark.django_db


def test_a_visitor_signs_up_as_a_learner_with_a_track_and_lands_on_the_dashboard(client: Client):
    response = client.post(
        reverse("accounts:sign-up"),
        {
            "username": "newtech",
            "email": "newtech@example.org",
            "exam_track": "CDIP",
            "password1": "dicom-rocks-2026",
            "password2": "dicom-rocks-2026",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("core:dashboard")
    user = User.objects.get(username="newtech")
    assert user.role == Role.LEARNER
    assert user.exam_track == "CDIP"
    page = client.get(reverse("core:dashboard"))
    assert "CDIP" in page.content.decode()


def test_sign_up_cannot_choose_a_role(client: Client):
    client.post(
        reverse("accounts:sign-up"),
        {
            "username": "sneaky",
            "email": "s@example.org",
            "exam_track": "CIIP",
            "role": "admin",
            "password1": "dicom-rocks-2026",
            "password2": "dicom-rocks-2026",
        },
    )
    assert User.objects.get(username="sneaky").role == Role.LEARNER


def test_sign_up_rejects_a_weak_password_and_a_taken_email_with_messages(client: Client):
    UserFactory(username="first", email="taken@example.org")
    response = client.post(
        reverse("accounts:sign-up"),
        {
            "username": "second",
            "email": "TAKEN@example.org",
            "exam_track": "CIIP",
            "password1": "12345678",
            "password2": "12345678",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "already exists" in body
    assert "too short" in body or "too common" in body
    assert not User.objects.filter(username="second").exists()


def test_sign_in_and_sign_out(client: Client):
    UserFactory(username="tech")
    response = client.post(reverse("accounts:login"), {"username": "tech", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("core:dashboard")).status_code == 200
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("core:dashboard")).status_code == 302


def test_repeated_failed_sign_ins_lock_the_account_even_for_the_right_password(client: Client):
    UserFactory(username="target")
    for _ in range(5):
        response = client.post(reverse("accounts:login"), {"username": "target", "password": "wrong-password"})
    assert response.status_code == 429
    response = client.post(reverse("accounts:login"), {"username": "target", "password": DEFAULT_PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_password_reset_by_email_link(client: Client):
    UserFactory(username="forgetful", email="forgetful@example.org")
    client.post(reverse("accounts:password-reset"), {"email": "forgetful@example.org"})
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/password/reset/" in line)
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path, follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": "brand-new-pass-77", "new_password2": "brand-new-pass-77"})
    assert response.status_code == 302
    assert can_sign_in("forgetful", "brand-new-pass-77")


def test_password_change_requires_the_old_password(learner_client: Client, learner: User):
    url = reverse("accounts:password-change")
    bad = learner_client.post(
        url, {"old_password": "nope", "new_password1": "x-new-pass-123", "new_password2": "x-new-pass-123"}
    )
    assert bad.status_code == 200
    good = learner_client.post(
        url, {"old_password": DEFAULT_PASSWORD, "new_password1": "x-new-pass-123", "new_password2": "x-new-pass-123"}
    )
    assert good.status_code == 302
    learner.refresh_from_db()
    assert learner.check_password("x-new-pass-123")


def test_profile_changes_the_exam_track(learner_client: Client, learner: User):
    response = learner_client.post(
        reverse("accounts:profile"), {"display_name": "Lena T.", "email": "lena@example.org", "exam_track": "CPSA"}
    )
    assert response.status_code == 302
    learner.refresh_from_db()
    assert (learner.exam_track, learner.display_name) == ("CPSA", "Lena T.")

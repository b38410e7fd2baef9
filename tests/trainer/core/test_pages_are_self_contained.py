"""Pages work on a closed hospital network: nothing is loaded from another host, and no inline script runs."""

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.I)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)


@pytest.mark.parametrize(
    "name", ["core:home", "accounts:login", "accounts:sign-up", "accounts:password-reset", "api:docs"]
)
def test_public_pages_load_nothing_from_other_hosts(client: Client, name: str):
    response = client.get(reverse(name))
    body = response.content.decode()
    assert response.status_code == 200
    assert not EXTERNAL.search(body), EXTERNAL.search(body)
    assert not INLINE_SCRIPT.search(body)
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_signed_in_pages_load_nothing_from_other_hosts(learner_client: Client, instructor_client: Client):
    for client, name in (
        (learner_client, "core:dashboard"),
        (learner_client, "accounts:profile"),
        (instructor_client, "core:teach"),
    ):
        body = client.get(reverse(name)).content.decode()
        assert not EXTERNAL.search(body)
        assert not INLINE_SCRIPT.search(body)

"""The tool's keys: JWKS endpoint, rotation that keeps superseded keys published until retired."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from lti_tool.models import Key

from trainer.lti.services import tool_key_current, tool_key_rotate

pytestmark = pytest.mark.django_db


def kids(client) -> list[str]:
    return [k["kid"] for k in client.get(reverse("lti:jwks")).json()["keys"]]


def test_jwks_publishes_rsa_signing_keys(client):
    keys = client.get(reverse("lti:jwks")).json()["keys"]
    assert len(keys) == 1
    assert keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and keys[0]["use"] == "sig"
    assert "d" not in keys[0]  # never the private part


def test_rotation_signs_with_the_new_key_and_keeps_the_old_kid_published(client):
    old = tool_key_current()
    new, retired = tool_key_rotate(retire_after=timedelta(days=7))
    assert retired == []
    assert tool_key_current() == new
    assert set(kids(client)) == {str(old), str(new)}
    # a week later, the next rotation retires the key superseded more than the grace period ago
    Key.objects.filter(pk=old.pk).update(datetime_created=timezone.now() - timedelta(days=30))
    Key.objects.filter(pk=new.pk).update(datetime_created=timezone.now() - timedelta(days=8))
    newest, retired = tool_key_rotate(retire_after=timedelta(days=7))
    assert retired == [str(old)]
    assert set(kids(client)) == {str(new), str(newest)}


def test_the_command_rotates(client):
    tool_key_current()
    out = StringIO()
    call_command("lti_rotate_keys", stdout=out)
    assert "New signing key" in out.getvalue()
    assert len(kids(client)) == 2

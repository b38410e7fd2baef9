"""A modality's "Send" pressed on its console runs in a real Celery worker (labs.peer_send over Redis) and
reaches the learner's node run by a real node host."""

from __future__ import annotations

import pytest

from labs.grading.models import LabPeer
from labs.nodes.models import AssociationLog, StoredInstance
from tests.conftest import signed_in
from tests.labs.fixtures import wait_for
from tests.labs.grading.helpers import start_lab

pytestmark = [pytest.mark.integration]


@pytest.fixture
def shared_storage(monkeypatch, node_settings):
    """The worker process reads the modality's store: it must see the node host's storage root."""
    monkeypatch.setenv("NODE_STORAGE_ROOT", str(node_settings.NODE_STORAGE_ROOT))


def test_send_pressed_on_the_console_runs_in_the_worker(learner, nodehost, shared_storage, celery_worker):
    attempt = start_lab(learner, "modality-association-limit")
    ct = attempt.peers.get(key="ct")
    client = signed_in(learner)
    assert client.post(f"/labs/attempts/{attempt.pk}/peers/ct/send/").status_code == 302

    def sent() -> LabPeer | None:
        ct.refresh_from_db()
        return ct if ct.settings.get("sends") == 1 else None

    wait_for(sent, timeout=60, what="the worker to send the study")
    assert "6 image(s) on 6 association(s)" in ct.settings["last_send"]
    assert "rejected" in ct.settings["last_send"]
    nodehost.flush()
    rejected = AssociationLog.objects.filter(node=attempt.node, calling_ae="CT_ROOM2", outcome="rejected")
    assert rejected.exists() and {r.reject_reason for r in rejected} == {2}
    stored = StoredInstance.objects.filter(node=attempt.node, calling_ae="CT_ROOM2").count()
    assert 0 < stored < 6
    assert AssociationLog.objects.filter(node=ct.node, direction="out").count() == 6
    page = client.get(f"/labs/attempts/{attempt.pk}/peers/ct/", headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in page and "rejected" in page

"""The node console and API: a learner sees and drives only their own nodes (another learner's are 404)."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from labs.dicom.runtime import AssociationRecord, DimseRecord
from labs.dicom.storage import OBJECTS_DIR, index_file
from labs.dicom.synthetic import study, write_study
from labs.nodes import selectors, services
from labs.nodes.models import AssociationLog, Node, StoredInstance
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)


@pytest.fixture(autouse=True)
def ports(node_settings):
    return node_settings


def put_study(node: Node, seed: int = 1, images: int = 2) -> list:
    """Place a synthetic study in the node's store and index it, as the node host does after a restart."""
    datasets = study(seed=seed, series=1, images=images)
    objects = selectors.node_storage_dir(node.pk) / OBJECTS_DIR
    for path in write_study(datasets, objects / "tmp"):
        target = objects / f"{__import__('pydicom').dcmread(path).SOPInstanceUID}.dcm"
        path.rename(target)
        row = index_file(target, node_id=node.pk, calling_ae="CT1")
        assert row is not None
        services.instances_upsert(rows=[row])
    return datasets


def put_association(node: Node) -> AssociationLog:
    record = AssociationRecord(
        node_id=node.pk,
        direction="in",
        started_at=timezone.now(),
        peer_host="127.0.0.1",
        peer_port=50000,
        calling_ae="CT1",
        called_ae=node.ae_title,
        outcome="accepted",
        ended_by="release",
        proposed=[{"id": 1, "abstract": "1.2.840.10008.5.1.4.1.1.2", "transfer": ["1.2.840.10008.1.2"]}],
        accepted=[{"id": 1, "abstract": "1.2.840.10008.5.1.4.1.1.2", "transfer": "1.2.840.10008.1.2", "result": 0}],
        messages=[DimseRecord("C-STORE", 1, "in", "1.2.840.10008.5.1.4.1.1.2", "1.2.3", status=0xA700, ended=1.0)],
    )
    services.associations_record(records=[record])
    return AssociationLog.objects.filter(node=node).latest("id")


@pytest.fixture
def node(learner):
    node = services.node_create(owner=learner, ae_title="LENA_PACS")
    services.known_ae_add(node=node, ae_title="CT1", host="127.0.0.1", port=11112)
    return node


def test_a_learner_creates_a_node_and_sees_how_to_reach_it(learner_client: Client, learner):
    response = learner_client.post("/nodes/")
    node = Node.objects.get(owner=learner)
    assert response.status_code == 302 and response["Location"] == f"/nodes/{node.pk}/"
    page = learner_client.get(f"/nodes/{node.pk}/").content.decode()
    assert f"echoscu -v -aet MYSCU -aec {node.ae_title} 127.0.0.1 {node.port}" in page
    assert "Waiting for the node host" in page  # no host runs in this test
    assert not INLINE_SCRIPT.search(page)


def console_urls(node: Node, instance_id: int, association_id: int, known_id: int, study_uid: str) -> list[str]:
    base = f"/nodes/{node.pk}"
    return [
        f"{base}/",
        f"{base}/state/",
        f"{base}/settings/",
        f"{base}/syntaxes/",
        f"{base}/known-aes/",
        f"{base}/worklist/",
        f"{base}/studies/",
        f"{base}/studies/{study_uid}/",
        f"{base}/instances/{instance_id}/",
        f"{base}/instances/{instance_id}/image.png",
        f"{base}/log/",
        f"{base}/log/{association_id}/",
        f"{base}/tools/",
    ]


def console_posts(node: Node, known_id: int) -> list[str]:
    base = f"/nodes/{node.pk}"
    return [
        f"{base}/start/",
        f"{base}/stop/",
        f"{base}/reset/",
        f"{base}/keep-alive/",
        f"{base}/delete/",
        f"{base}/settings/",
        f"{base}/syntaxes/",
        f"{base}/known-aes/",
        f"{base}/known-aes/{known_id}/",
        f"{base}/known-aes/{known_id}/delete/",
        f"{base}/worklist/",
        f"{base}/tools/echo/",
    ]


def api_gets(node: Node, instance_id: int, association_id: int, study_uid: str) -> list[str]:
    base = f"/api/nodes/{node.pk}"
    return [
        f"{base}/",
        f"{base}/known-aes/",
        f"{base}/worklist/",
        f"{base}/studies/",
        f"{base}/studies/{study_uid}/",
        f"{base}/instances/{instance_id}/tags/",
        f"{base}/instances/{instance_id}/image.png",
        f"{base}/associations/",
        f"{base}/associations/{association_id}/",
    ]


def api_writes(node: Node, known_id: int) -> list[tuple[str, str]]:
    base = f"/api/nodes/{node.pk}"
    return [
        ("patch", f"{base}/config/"),
        ("post", f"{base}/start/"),
        ("post", f"{base}/stop/"),
        ("post", f"{base}/reset/"),
        ("post", f"{base}/keep-alive/"),
        ("post", f"{base}/known-aes/"),
        ("patch", f"{base}/known-aes/{known_id}/"),
        ("delete", f"{base}/known-aes/{known_id}/"),
        ("post", f"{base}/worklist/"),
        ("post", f"{base}/scu/echo/"),
        ("post", f"{base}/scu/find/"),
        ("post", f"{base}/scu/move/"),
        ("post", f"{base}/scu/send/"),
        ("delete", f"{base}/"),
    ]


def test_the_owner_can_open_every_page_and_endpoint(node, learner):
    datasets = put_study(node)
    log = put_association(node)
    instance = StoredInstance.objects.filter(node=node).earliest("id")
    known = node.known_aes.get()
    client = signed_in(learner)
    for url in console_urls(node, instance.pk, log.pk, known.pk, datasets[0].StudyInstanceUID):
        response = client.get(url)
        assert response.status_code == 200, url
        if response["Content-Type"].startswith("text/html"):
            assert not INLINE_SCRIPT.search(response.content.decode()), url
    for url in api_gets(node, instance.pk, log.pk, datasets[0].StudyInstanceUID):
        assert client.get(url).status_code == 200, url


def test_another_learner_gets_404_for_every_page_and_endpoint_and_changes_nothing(node, other_learner):
    datasets = put_study(node)
    log = put_association(node)
    instance = StoredInstance.objects.filter(node=node).earliest("id")
    known = node.known_aes.get()
    before = (node.revision, node.desired, node.known_aes.count())
    intruder = signed_in(other_learner)
    for url in console_urls(node, instance.pk, log.pk, known.pk, datasets[0].StudyInstanceUID):
        assert intruder.get(url).status_code == 404, url
    for url in console_posts(node, known.pk):
        assert intruder.post(url, {"known": known.pk}).status_code == 404, url
    for url in api_gets(node, instance.pk, log.pk, datasets[0].StudyInstanceUID):
        assert intruder.get(url).status_code == 404, url
    for method, url in api_writes(node, known.pk):
        response = getattr(intruder, method)(
            url, data=json.dumps({"known_ae": known.pk}), content_type="application/json"
        )
        assert response.status_code == 404, (method, url)
    node.refresh_from_db()
    assert (node.revision, node.desired, node.known_aes.count()) == before
    assert intruder.get("/api/nodes/").json() == []


def test_signed_out_visitors_are_sent_to_sign_in(node, client):
    assert client.get(f"/nodes/{node.pk}/").status_code == 302
    assert client.get(f"/api/nodes/{node.pk}/").status_code in (401, 403)


def test_the_study_browser_shows_thumbnails_and_a_tag_dump(node, learner):
    datasets = put_study(node, images=3)
    client = signed_in(learner)
    page = client.get(f"/nodes/{node.pk}/studies/").content.decode()
    assert "TRAINING^PHANTOM" in page and "3 images" in page
    instance = StoredInstance.objects.filter(node=node).order_by("instance_number")[0]
    image = client.get(f"/nodes/{node.pk}/instances/{instance.pk}/image.png")
    assert image["Content-Type"] == "image/png" and image.content[:4] == b"\x89PNG"
    dump = client.get(f"/nodes/{node.pk}/instances/{instance.pk}/").content.decode()
    assert "(0010,0010)" in dump and "PatientName" in dump and datasets[0].StudyInstanceUID in dump


def test_the_studies_page_costs_the_same_queries_for_one_or_many_studies(node, learner, django_assert_max_num_queries):
    client = signed_in(learner)
    put_study(node, seed=1)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(f"/nodes/{node.pk}/studies/")
    for seed in range(2, 7):
        put_study(node, seed=seed)
    with CaptureQueriesContext(connection) as many:
        client.get(f"/nodes/{node.pk}/studies/")
    assert len(many.captured_queries) == len(one.captured_queries)


def test_the_ladder_shows_each_request_and_its_status(node, learner):
    log = put_association(node)
    page = signed_in(learner).get(f"/nodes/{node.pk}/log/{log.pk}/").content.decode()
    for text in ("A-ASSOCIATE-RQ", "A-ASSOCIATE-AC", "C-STORE-RQ", "0xA700 Refused: Out of Resources", "A-RELEASE-RP"):
        assert text in page
    detail = signed_in(learner).get(f"/api/nodes/{node.pk}/associations/{log.pk}/").json()
    assert [s["label"] for s in detail["ladder"]][:3] == ["TCP connect", "A-ASSOCIATE-RQ", "A-ASSOCIATE-AC"]
    assert detail["messages"][0]["status_name"] == "Refused: Out of Resources"


def test_the_settings_form_shows_the_services_message_for_bad_input(node, learner):
    client = signed_in(learner)
    response = client.post(
        f"/nodes/{node.pk}/settings/",
        {
            "ae_title": "BAD\\TITLE",
            "check_called_ae": "on",
            "max_associations": 4,
            "max_associations_per_minute": 10,
            "duplicate_policy": "overwrite",
            "quota_mb": 10,
            "quota_instances": 10,
        },
    )
    assert response.status_code == 200
    assert "is not valid" in response.content.decode()


def test_a_script_can_configure_a_node_through_the_api(learner):
    client = signed_in(learner)
    created = client.post("/api/nodes/", {"name": "scripted"}, content_type="application/json")
    assert created.status_code == 201
    node_id = created.json()["id"]
    base = f"/api/nodes/{node_id}"
    bad = client.patch(f"{base}/config/", {"transfer_syntaxes": ["9.9"]}, content_type="application/json")
    assert bad.status_code == 400 and "Not a transfer syntax" in bad.json()["detail"]
    ok = client.patch(
        f"{base}/config/", {"reject_unknown_calling": True, "max_associations": 2}, content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json()["max_associations"] == 2
    known = client.post(
        f"{base}/known-aes/",
        {"ae_title": "CT1", "host": "127.0.0.1", "port": 104, "move_destination": False},
        content_type="application/json",
    )
    assert known.status_code == 201 and known.json()["move_destination"] is False
    duplicate = client.post(
        f"{base}/known-aes/", {"ae_title": "CT1", "host": "h", "port": 1}, content_type="application/json"
    )
    assert duplicate.status_code == 400 and "already knows" in duplicate.json()["detail"]
    wl = client.post(
        f"{base}/worklist/",
        {"patient_name": "A^B", "patient_id": "1", "start_date": "2025"},
        content_type="application/json",
    )
    assert wl.status_code == 400 and "YYYYMMDD" in wl.json()["detail"]
    detail = client.get(f"{base}/").json()
    assert detail["commands"][0]["command"].startswith("echoscu")
    assert client.post(f"{base}/stop/").json()["desired"] == "stopped"
    unknown = client.post(f"{base}/scu/echo/", {"known_ae": 999999}, content_type="application/json")
    assert unknown.status_code == 400


def test_the_api_schema_stays_valid(learner_client: Client):
    response = learner_client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/nodes/{node_id}/scu/move/" in response.content


def test_the_console_warns_before_an_idle_node_is_stopped(node, learner, settings):
    from datetime import timedelta

    settings.NODE_IDLE_MINUTES = 30
    Node.objects.filter(pk=node.pk).update(last_activity=timezone.now() - timedelta(minutes=25))
    page = signed_in(learner).get(f"/nodes/{node.pk}/state/").content.decode()
    assert "this node stops in" in page and "Keep it running" in page
    signed_in(learner).post(f"/nodes/{node.pk}/keep-alive/")
    assert "this node stops in" not in signed_in(learner).get(f"/nodes/{node.pk}/state/").content.decode()


def test_a_console_tool_reports_an_unreachable_peer_in_plain_words(node, learner):
    known = node.known_aes.get()
    services.known_ae_update(known=known, port=9)  # nothing listens on the discard port here
    response = signed_in(learner).post(
        f"/nodes/{node.pk}/tools/echo/", {"echo-known": known.pk}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Could not connect to CT1 at 127.0.0.1:9" in body
    assert AssociationLog.objects.get(node=node, direction="out").outcome == "failed"


def test_a_query_with_a_misspelt_keyword_is_a_clear_400(node, learner):
    known = node.known_aes.get()
    response = signed_in(learner).post(
        f"/api/nodes/{node.pk}/scu/find/",
        {"known_ae": known.pk, "level": "STUDY", "keys": {"PatientsName": "DOE*"}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "'PatientsName' is not a DICOM keyword" in response.json()["detail"]


def test_a_script_can_fetch_an_instance_image_through_the_api(node, learner):
    put_study(node)
    instance = StoredInstance.objects.filter(node=node).earliest("id")
    client = signed_in(learner)
    image = client.get(f"/api/nodes/{node.pk}/instances/{instance.pk}/image.png?size=64")
    assert image.status_code == 200 and image["Content-Type"] == "image/png" and image.content[:4] == b"\x89PNG"
    assert client.get(f"/api/nodes/{node.pk}/instances/{instance.pk}/image.png?size=big").status_code == 400


def test_a_connection_that_never_became_an_association_is_logged_as_such(node, learner):
    from django.utils import timezone

    from labs.nodes.models import AssociationLog

    AssociationLog.objects.create(
        node=node, direction="in", started_at=timezone.now(), calling_ae="", called_ae="", outcome="failed",
        explanation="Connection from an unnamed AE ended without an association.",
    )  # fmt: skip
    page = signed_in(learner).get(f"/nodes/{node.pk}/log/").content.decode()
    assert "no association" in page
    assert "<code></code>" not in page  # no empty AE title boxes
    assert "the newest 200 are kept" in page  # NODE_LOG_KEEP, not the number of rows shown

"""Node services: ports, validation with clear messages, idle reaping, the bounded log, host health."""

from datetime import timedelta

import pytest
from django.utils import timezone

from labs.dicom.runtime import AssociationRecord
from labs.nodes import selectors, services
from labs.nodes.models import AssociationLog, Node, NodeHost, NodeKind
from tests.labs.fixtures import PORTS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def ports(node_settings):
    return node_settings


def test_each_node_gets_its_own_port_from_the_range_and_keeps_it(learner, other_learner):
    a = services.node_create(owner=learner)
    b = services.node_create(owner=other_learner)
    c = services.node_create(owner=learner, kind=NodeKind.LAB)
    low = PORTS[0]
    assert [a.port, b.port, c.port] == [low, low + 1, low + 2]
    services.node_configure(node=a, ae_title="RENAMED")
    services.node_reset(node=a)
    a.refresh_from_db()
    assert a.port == low and a.revision > 1 and a.reset_epoch == 1


def test_a_full_port_range_is_a_clear_error(learner, other_learner, settings):
    settings.NODE_PORT_RANGE = (PORTS[0], PORTS[0])
    services.node_create(owner=learner)
    with pytest.raises(services.NodeError, match=f"Every port in {PORTS[0]}-{PORTS[0]} is taken"):
        services.node_create(owner=other_learner)


def test_one_personal_node_per_learner(learner):
    services.node_create(owner=learner)
    with pytest.raises(services.NodeError, match="already have a personal node"):
        services.node_create(owner=learner)


@pytest.mark.parametrize("title", ["", "   ", "A\\B", "X" * 17, "TAB\tHERE"])
def test_invalid_ae_titles_are_refused_with_a_message(learner, title):
    node = services.node_create(owner=learner)
    with pytest.raises(services.NodeError, match="is not valid"):
        services.node_configure(node=node, ae_title=title)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_associations": 0}, "between 1 and 64"),
        ({"quota_bytes": "lots"}, "whole number"),
        ({"transfer_syntaxes": []}, "at least one transfer syntax"),
        ({"transfer_syntaxes": ["1.2.3"]}, "Not a transfer syntax"),
        ({"accept_all_storage": False}, "at least one storage SOP class"),
        ({"sop_classes": ["1.2.840.10008.1.1"]}, "Not a storage SOP class"),
        ({"duplicate_policy": "merge"}, "Duplicate policy must be one of"),
        ({"port": 104}, "Unknown setting"),
    ],
)
def test_bad_configuration_gets_a_clear_error(learner, changes, message):
    node = services.node_create(owner=learner)
    with pytest.raises(services.NodeError, match=message):
        services.node_configure(node=node, **changes)


def test_known_ae_titles_are_unique_per_node_and_hosts_are_checked(learner):
    node = services.node_create(owner=learner)
    services.known_ae_add(node=node, ae_title="CT1", host="127.0.0.1", port=104)
    with pytest.raises(services.NodeError, match="already knows an AE titled 'CT1'"):
        services.known_ae_add(node=node, ae_title="CT1", host="127.0.0.2", port=104)
    with pytest.raises(services.NodeError, match="not a host name"):
        services.known_ae_add(node=node, ae_title="CT2", host="evil host/../", port=104)
    with pytest.raises(services.NodeError, match="outside 1-65535"):
        services.known_ae_add(node=node, ae_title="CT3", host="ct3.example", port=70000)


def test_idle_nodes_are_warned_then_stopped_keeping_their_data(learner, settings):
    settings.NODE_IDLE_MINUTES = 60
    settings.NODE_IDLE_WARNING_MINUTES = 10
    node = services.node_create(owner=learner)
    assert selectors.node_idle_minutes_left(node) is None
    Node.objects.filter(pk=node.pk).update(last_activity=timezone.now() - timedelta(minutes=55))
    node.refresh_from_db()
    assert selectors.node_idle_minutes_left(node) in (4, 5)
    assert services.nodes_reap_idle() == []
    Node.objects.filter(pk=node.pk).update(last_activity=timezone.now() - timedelta(minutes=61))
    assert services.nodes_reap_idle() == [node.pk]
    node.refresh_from_db()
    assert node.desired == "stopped" and node.reaped_at is not None
    assert "idle" in selectors.node_state(node, (True, "")).detail


def test_the_association_log_keeps_only_the_newest_entries(learner, settings):
    settings.NODE_LOG_KEEP = 3
    node = services.node_create(owner=learner)
    records = [
        AssociationRecord(
            node_id=node.pk,
            direction="in",
            started_at=timezone.now(),
            calling_ae=f"AE{i}",
            called_ae=node.ae_title,
            outcome="rejected",
            reject=(1, 1, 7),
        )
        for i in range(5)
    ]
    services.associations_record(records=records)
    kept = list(AssociationLog.objects.filter(node=node).order_by("id").values_list("calling_ae", flat=True))
    assert kept == ["AE2", "AE3", "AE4"]
    assert "Called AE Title Not Recognized" in AssociationLog.objects.latest("id").explanation


def test_host_health_follows_the_freshest_heartbeat(learner):
    ok, detail = selectors.nodehost_health()
    assert ok and "no node is waiting" in detail
    services.node_create(owner=learner)
    ok, detail = selectors.nodehost_health()
    assert not ok and "wait to run" in detail
    now = timezone.now()
    services.host_heartbeat(host_id="h1", pid=1, hostname="h", public_host="127.0.0.1", started_at=now, node_count=1)
    assert selectors.nodehost_health()[0]
    NodeHost.objects.update(last_seen=now - timedelta(minutes=5))
    ok, detail = selectors.nodehost_health()
    assert not ok and "silent" in detail

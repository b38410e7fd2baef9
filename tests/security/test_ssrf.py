"""SSRF: a learner cannot make the platform open DICOM associations to addresses outside NODE_ALLOWED_NETWORKS,
whether the address is written out, spelt in one of the many ways a resolver accepts, or hidden behind a host
name. Console tools (echo, find, move, send, through the real pages) and C-MOVE destinations of a running node
are refused with a message naming the address, and a listener at that address never sees a connection."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator

import pytest
from pydicom.dataset import Dataset
from pynetdicom import AE
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelMove

from labs.dicom.netpolicy import DestinationRefused, resolve_allowed
from labs.dicom.synthetic import study, write_into_store
from labs.nodes import services
from labs.nodes.models import AssociationLog, Node
from labs.nodes.selectors import node_storage_dir
from tests.conftest import signed_in
from tests.labs.fixtures import wait_for, wait_running
from tests.labs.nodes.test_console_and_api import put_study
from trainer.accounts.models import User

ONLY_TEST_NET = [ipaddress.ip_network("192.0.2.0/24")]  # loopback is NOT allowed in these tests
# Every spelling below reaches this machine's loopback listener.
LOOPBACK_SPELLINGS = [
    "127.0.0.1",
    "localhost",
    "LOCALHOST",
    socket.gethostname(),  # the machine's own name (resolves to a loopback address here)
    "127.1",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "::ffff:127.0.0.1",
    "0.0.0.0",  # noqa: S104 - a destination, not a bind address
    "0",
]


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it receives."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    probe = Listener()
    yield probe
    probe.close()


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_every_spelling_of_a_disallowed_host_is_refused(host: str) -> None:
    with pytest.raises(DestinationRefused, match=r"outside the networks|not a single host"):
        resolve_allowed(host, 104, ONLY_TEST_NET)


def test_ipv4_mapped_addresses_are_judged_as_ipv4() -> None:
    """Allowing all of IPv6 must not let ::ffff:169.254.169.254 reach the IPv4 metadata service."""
    allowed = [ipaddress.ip_network("::/0"), ipaddress.ip_network("10.0.0.0/8")]
    with pytest.raises(DestinationRefused, match="outside the networks"):
        resolve_allowed("::ffff:169.254.169.254", 80, allowed)
    assert resolve_allowed("::ffff:10.1.2.3", 104, allowed) == "::ffff:10.1.2.3"


@pytest.mark.parametrize("host", ["169.254.169.254", "10.0.0.1", "192.168.1.1", "8.8.8.8", "224.0.0.1"])
def test_default_policy_refuses_metadata_private_public_and_multicast_addresses(host: str, settings) -> None:
    settings.NODE_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
    with pytest.raises(DestinationRefused):
        resolve_allowed(host, 104, settings.NODE_ALLOWED_NETWORKS)


def _console_node(owner: User, host: str, port: int) -> Node:
    node = services.node_create(owner=owner, ae_title="LENA_PACS")
    services.known_ae_add(node=node, ae_title="PEER", host=host, port=port)
    return node


TOOLS = {
    "echo": {},
    "find": {"find-model": "study", "find-level": "STUDY", "find-keys": "PatientName=*"},
    "move": {"move-level": "STUDY", "move-keys": "StudyInstanceUID=1.2.3", "move-destination": ""},
    "send": {"send-study_instance_uid": "1.2.3.4"},
}


@pytest.mark.parametrize("tool", sorted(TOOLS))
@pytest.mark.parametrize("host", ["localhost", socket.gethostname(), "127.1", "::ffff:127.0.0.1"])
def test_console_tools_refuse_names_resolving_to_disallowed_addresses(
    tool: str, host: str, learner: User, listener: Listener, settings
) -> None:
    settings.NODE_ALLOWED_NETWORKS = ONLY_TEST_NET
    node = _console_node(learner, host, listener.port)
    data = dict(TOOLS[tool])
    if tool == "send":
        data["send-study_instance_uid"] = put_study(node)[0].StudyInstanceUID
    known = node.known_aes.get()
    response = signed_in(learner).post(
        f"/nodes/{node.pk}/tools/{tool}/", {f"{tool}-known": known.pk, **data}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "outside the networks this platform may connect to" in body, body[:2000]
    assert "NODE_ALLOWED_NETWORKS" in body
    assert listener.connections == 0
    out = AssociationLog.objects.filter(node=node, direction="out")
    assert [log.outcome for log in out] == ["refused"]


def test_the_same_console_echo_does_reach_an_allowed_address(learner: User, listener: Listener, settings) -> None:
    """The control: with loopback allowed the listener is reached (so the refusals above are the policy's)."""
    settings.NODE_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.0/8")]
    node = _console_node(learner, "localhost", listener.port)
    response = signed_in(learner).post(
        f"/nodes/{node.pk}/tools/echo/", {"echo-known": node.known_aes.get().pk}, HTTP_HX_REQUEST="true"
    )
    assert "outside the networks" not in response.content.decode()
    wait_for(lambda: listener.connections >= 1, what="the allowed connection")


def test_a_c_move_destination_resolving_to_a_disallowed_address_is_refused(
    nodehost, learner: User, listener: Listener, settings
) -> None:
    settings.NODE_ALLOWED_NETWORKS = ONLY_TEST_NET  # read by the node when it starts
    node = services.node_create(owner=learner, ae_title="LENA_PACS", start=False)
    datasets = study(seed=5, images=2)
    write_into_store(datasets, node_storage_dir(node.pk))
    services.known_ae_add(node=node, ae_title="WS", host="localhost", port=listener.port)
    services.node_start(node=node)
    wait_running(node)

    ae = AE(ae_title="WS")
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelMove)
    assoc = ae.associate("127.0.0.1", node.port, ae_title="LENA_PACS")
    assert assoc.is_established
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = datasets[0].StudyInstanceUID
    statuses = [
        int(status.Status) for status, _ in assoc.send_c_move(query, "WS", StudyRootQueryRetrieveInformationModelMove)
    ]
    assoc.release()

    assert statuses and statuses[-1] not in (0x0000, 0xFF00), [hex(s) for s in statuses]
    assert listener.connections == 0
    refused = wait_for(
        lambda: AssociationLog.objects.filter(node=node, direction="out", outcome="refused").first(),
        what="the refused outbound association in the node's log",
    )
    assert "outside the networks this platform may connect to" in refused.detail

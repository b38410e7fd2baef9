"""One DICOM node: a pynetdicom AE with its own server socket (PS3.8 upper layer, PS3.7 DIMSE).

What this adds to pynetdicom, per node:
- TCP_NODELAY on every accepted and outbound socket (pynetdicom leaves Nagle on; each small PDU then waits
  for the peer's delayed ACK, 40-100 ms on loopback);
- a cap on the PDU length a peer may declare and on the bytes one association may bring in, so that a
  malformed or hostile PDU costs an abort, never the host's memory;
- association checks pynetdicom lacks — an unknown calling AE with an empty known-AE list, the calling host,
  a rate limit — answered with the right A-ASSOCIATE-RJ (PS3.8 §9.3.4);
- an association record per association for the log, and outbound associations only to allowed networks.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import logging
import queue
import select
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, cast

from pynetdicom import AE, _config, evt
from pynetdicom._globals import MODE_ACCEPTOR
from pynetdicom.acse import ACSE
from pynetdicom.dimse import DIMSEServiceProvider
from pynetdicom.dul import DULServiceProvider
from pynetdicom.presentation import PresentationContext, build_context
from pynetdicom.transport import AssociationSocket, RequestHandler, ThreadedAssociationServer

from labs.dicom import catalog, records
from labs.dicom.netpolicy import DestinationRefused, resolve_allowed
from labs.dicom.runtime import AssociationRecord, NodeBackend, NodeConfig
from labs.dicom.storage import NodeStore

logger = logging.getLogger(__name__)

# pynetdicom's "standard" logging handlers format every PDU and DIMSE message; the node log replaces them.
_config.LOG_HANDLER_LEVEL = "none"

# What the node announces as its maximum PDU length (PS3.8 §D.1): 1 MiB lets a 0.5 MB image arrive in one
# P-DATA-TF instead of eight, and pynetdicom's cost is per PDU (decode, state machine, queue hand-off).
MAX_PDU_RECEIVE = 1024 * 1024
MAX_PDU_OUTBOUND = 64 * 1024  # what the console's outbound associations announce
MAX_PDU_DECLARED = 4 * 1024 * 1024  # a peer declaring a longer PDU than this is aborted
ASSOCIATION_BYTES_SLACK = 64 * 1024 * 1024
ACSE_TIMEOUT = 10.0
DIMSE_TIMEOUT = 30.0
NETWORK_TIMEOUT = 60.0
CONNECTION_TIMEOUT = 5.0
SERVICE_TRANSFER_SYNTAXES = [catalog.IMPLICIT_VR_LE, catalog.EXPLICIT_VR_LE, catalog.EXPLICIT_VR_BE]


def nodelay(sock: socket.socket | None) -> None:
    """Switch Nagle's algorithm off: DICOM sends small PDUs and waits for answers (request/response)."""
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class GuardedSocket(AssociationSocket):
    """An accepted socket that refuses absurd PDU lengths and counts bytes for the log."""

    max_total: int = 0

    def recv(self, nr_bytes: int) -> bytearray:
        record = records.record_of(self.assoc)
        if nr_bytes > MAX_PDU_DECLARED:
            if record is not None:
                record.detail = f"peer declared a {nr_bytes}-byte PDU (limit {MAX_PDU_DECLARED}); aborted"
            raise OSError("PDU length over the node's limit")
        data = super().recv(nr_bytes)
        if record is not None:
            record.bytes_in += len(data)
            if self.max_total and record.bytes_in > self.max_total:
                record.detail = "association brought in more data than the node's quota allows; aborted"
                raise OSError("association byte limit exceeded")
        return data

    def send(self, bytestream: bytes) -> None:
        record = records.record_of(self.assoc)
        if record is not None:
            record.bytes_out += len(bytestream)
        super().send(bytestream)


# pynetdicom's acceptor loop sleeps 1 ms before each look at its DIMSE queue: a complete C-STORE waits up to
# 1 ms before its handler runs (measured with py-spy, see docs/PERFORMANCE.md). The node's associations wait on
# the queue itself instead, woken the moment the message is complete (and less often when idle).
REACTOR_QUEUE_WAIT = 0.005


class PromptDIMSE(DIMSEServiceProvider):
    """A DIMSE provider whose non-blocking read waits briefly on the queue, so the association reactor serves a
    message the moment it is complete rather than after its next 1 ms sleep."""

    def get_msg(self, block: bool = False) -> Any:
        if block:
            return super().get_msg(block=True)
        try:
            return self.msg_queue.get(block=True, timeout=REACTOR_QUEUE_WAIT)
        except queue.Empty:
            return None, None


# pynetdicom's upper-layer reactor polls: when a pass finds nothing to do it sleeps 1 ms, so a PDU that has
# arrived, or a response the association has queued, waits up to a millisecond (more under load) before it is
# read or sent: twice per request/response. The node's reactor instead blocks in select() on the socket and on a
# wake-up socket that every queued primitive writes to, so it reacts at once and uses no CPU while waiting.
# The timeout bounds how late it sees what other threads signal without waking it (ARTIM expiry, a closed socket).
DUL_IDLE_WAIT = 0.05


class PromptDUL(DULServiceProvider):
    """The DICOM upper layer (PS3.8 §9) driven by socket readiness instead of a 1 ms polling loop."""

    def __init__(self, assoc: Any) -> None:
        super().__init__(assoc)
        self._run_loop_delay = 0.0
        self._wake_pair: tuple[socket.socket, socket.socket] | None = None

    def _wake(self) -> None:
        pair = self._wake_pair
        if pair is not None:
            with contextlib.suppress(OSError):  # closed, or already holding unread wake-ups
                pair[1].send(b"\0")

    def send_pdu(self, primitive: Any) -> None:
        super().send_pdu(primitive)
        self._wake()

    def kill_dul(self) -> None:
        super().kill_dul()
        self._wake()

    def stop_dul(self) -> bool:
        if self.state_machine.current_state != "Sta1":
            return False
        self._kill_thread = True
        self._wake()
        if self.is_alive() and threading.current_thread() is not self:
            self.join()
        return True

    def _is_transport_event(self) -> bool:
        if super()._is_transport_event():
            return True
        pair = self._wake_pair
        sock = getattr(self.socket, "socket", None)
        if pair is None or sock is None:  # (in Sta13 the call above always reports an event)
            return False
        if self._kill_thread or not self.event_queue.empty() or not self.to_provider_queue.empty():
            return False
        if getattr(sock, "pending", None) and sock.pending():  # TLS: bytes already decrypted
            return False
        try:
            ready, _, _ = select.select([sock, pair[0]], [], [], DUL_IDLE_WAIT)
        except (OSError, ValueError):  # the socket was closed meanwhile: the next pass sees it
            return False
        if pair[0] in ready:
            with contextlib.suppress(OSError):
                pair[0].recv(4096)
        return False  # the next pass reads the PDU or sends the primitive

    def run_reactor(self) -> None:
        pair = socket.socketpair()
        for end in pair:
            end.setblocking(False)
        self._wake_pair = pair
        try:
            super().run_reactor()
        finally:
            self._wake_pair = None
            for end in pair:
                end.close()


# DIMSE request command fields (PS3.7 §9.3, §10.3): C-STORE, C-GET, C-FIND, C-MOVE, C-ECHO, N-EVENT-REPORT, N-GET,
# N-SET, N-ACTION, N-CREATE, N-DELETE.
REQUEST_COMMANDS = frozenset({0x0001, 0x0010, 0x0020, 0x0021, 0x0030, 0x0100, 0x0110, 0x0120, 0x0130, 0x0140, 0x0150})


def abort_invalid_request(event: Any) -> None:
    """A request missing a required command element (an empty Affected SOP Instance UID, say) is dropped by
    pynetdicom without an answer, leaving the peer waiting until the idle timeout; abort the association at once
    instead (PS3.8 §7.3.3, A-ABORT), as pynetdicom itself does for a message it cannot decode."""
    message = event.message
    command = int(getattr(message.command_set, "CommandField", 0) or 0)
    if command not in REQUEST_COMMANDS:
        return
    try:
        valid = bool(message.message_to_primitive().is_valid_request)
    except Exception:  # pynetdicom aborts these itself
        return
    if not valid:
        logger.info("aborting an association that sent an invalid DIMSE request (command 0x%04X)", command)
        event.assoc.dul.event_queue.put("Evt19")


class NodeACSE(ACSE):
    """The node's association acceptance (PS3.8 §9.3.4): pynetdicom's checks plus the node's own."""

    def __init__(self, assoc: Any, runtime: NodeRuntime) -> None:
        super().__init__(assoc)
        self.runtime = runtime

    def _negotiate_as_acceptor(self) -> None:
        rq = self.requestor.primitive
        calling = str(rq.calling_ae_title).strip() if rq is not None else ""
        peer = self.assoc.requestor.address_info
        reason = self.runtime.admission(calling, peer.address if peer is not None else "")
        if reason is not None:
            self.requestor.ae_title = calling
            self.send_reject(*reason)
            evt.trigger(self.assoc, evt.EVT_REJECTED, {})
            self.assoc.kill()
            return
        if rq is not None:
            proposed = rq.presentation_context_definition_list
            preferred = prefer_requested(self.assoc.acceptor.supported_contexts, proposed)
            if preferred is not None:
                self.assoc.acceptor.supported_contexts = preferred
        super()._negotiate_as_acceptor()

    def send_reject(self, result: int, source: int, diagnostic: int) -> None:
        record = records.record_of(self.assoc)
        if record is not None:
            record.outcome = "rejected"
            record.reject = (result, source, diagnostic)
            rq = self.requestor.primitive
            if rq is not None:
                record.calling_ae = str(rq.calling_ae_title).strip()
                record.called_ae = str(rq.called_ae_title).strip()
                record.proposed = records.contexts_proposed(self.assoc)
        super().send_reject(result, source, diagnostic)


class NodeRequestHandler(RequestHandler):
    """Creates each accepted association with the node's socket, ACSE and association record."""

    server: NodeServer

    def _create_association(self) -> Any:
        from pynetdicom.association import Association
        from pynetdicom.transport import AddressInformation

        runtime = self.server.runtime
        nodelay(self.request)
        assoc = Association(self.ae, MODE_ACCEPTOR)
        assoc.dul = PromptDUL(assoc)
        assoc._server = self.server
        assoc.name = f"AcceptorThread@node{runtime.config.node_id}"
        assoc.daemon = True
        peer = AddressInformation.from_tuple(self.client_address)
        records.attach(
            assoc,
            AssociationRecord(
                node_id=runtime.config.node_id,
                direction="in",
                started_at=datetime.now(UTC),
                peer_host=peer.address,
                peer_port=peer.port,
                called_ae="",
                start_mono=time.monotonic(),
            ),
        )
        sock = GuardedSocket(assoc, client_socket=self.request)
        sock.max_total = runtime.config.quota_bytes + ASSOCIATION_BYTES_SLACK
        assoc.set_socket(sock)
        assoc.acse = NodeACSE(assoc, runtime)
        assoc.dimse = PromptDIMSE(assoc)
        assoc.acceptor.maximum_length = self.ae.maximum_pdu_size
        assoc.acceptor.ae_title = runtime.config.ae_title
        assoc.acceptor.address_info = self.local
        assoc.acceptor.implementation_class_uid = self.ae.implementation_class_uid
        assoc.acceptor.implementation_version_name = self.ae.implementation_version_name
        assoc.acceptor.supported_contexts = runtime.contexts_copy()
        assoc.requestor.address_info = peer
        for event, handlers in self.server._handlers.items():
            if event.is_intervention and handlers:
                assoc.bind(event, *handlers)
            elif isinstance(event, evt.NotificationEvent):
                for handler in cast(list[tuple[Any, Any]], handlers):
                    assoc.bind(event, handler[0], handler[1])
        return assoc


class NodeServer(ThreadedAssociationServer):
    daemon_threads = True
    runtime: NodeRuntime

    def accept_one(self) -> None:
        """Accept one pending connection and start its association thread (socketserver's own step)."""
        self._handle_request_noblock()  # type: ignore[attr-defined]


class Acceptor:
    """One thread accepts connections for every node of the process.

    socketserver's ``serve_forever`` would give each node a thread that wakes every 0.5 s and needs up to
    0.5 s to stop; with hundreds of nodes that is hundreds of idle threads. Here the listening sockets share
    one epoll selector: an idle node costs no thread, and stopping it is immediate. Each accepted connection
    still gets its own association thread (pynetdicom's ``ThreadingMixIn``)."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._thread: threading.Thread | None = None

    def add(self, server: NodeServer) -> None:
        with self._lock:
            self._selector.register(cast(socket.socket, server.socket), selectors.EVENT_READ, server)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="node-acceptor", daemon=True)
                self._thread.start()

    def remove(self, server: NodeServer) -> None:
        with self._lock, contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(cast(socket.socket, server.socket))
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _run(self) -> None:
        while True:
            try:
                events = self._selector.select(timeout=5.0)
            except OSError:
                logger.exception("node acceptor: select failed")
                time.sleep(0.1)
                continue
            for key, _ in events:
                if key.data is None:
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(4096)
                    continue
                server = cast(NodeServer, key.data)
                try:
                    server.accept_one()
                except Exception:  # one node's error never stops the others from accepting
                    logger.exception("node acceptor: error accepting for port %s", server.server_address[1])


ACCEPTOR = Acceptor()


class NodeAE(AE):
    """The AE of one node; outbound associations (C-MOVE sub-operations, N-EVENT-REPORT) go through
    :meth:`associate`, which enforces the allowed networks, sets TCP_NODELAY and records the association."""

    runtime: NodeRuntime

    def associate(  # type: ignore[override]
        self, addr: str, port: int, contexts: Any = None, ae_title: str = "ANY-SCP", **kwargs: Any
    ) -> Any:
        record = AssociationRecord(
            node_id=self.runtime.config.node_id,
            direction="out",
            started_at=datetime.now(UTC),
            peer_host=str(addr),
            peer_port=int(port),
            calling_ae=self.ae_title,
            called_ae=ae_title,
            start_mono=time.monotonic(),
        )
        try:
            ip = resolve_allowed(str(addr), int(port), self.runtime.config.allowed_networks)
        except DestinationRefused as exc:
            record.outcome = "refused"
            record.detail = str(exc)
            self.runtime.finish_record(record)
            return _NotAssociated()
        handlers = list(kwargs.pop("evt_handlers", None) or [])
        handlers += [
            (evt.EVT_CONN_OPEN, _outbound_open, [record]),
            (evt.EVT_CONN_CLOSE, _outbound_close, [self.runtime]),
        ]
        handlers += [(e, h) for e, h in records.LOG_HANDLERS + records.OUTBOUND_BYTE_HANDLERS]
        assoc = super().associate(ip, port, contexts=contexts, ae_title=ae_title, evt_handlers=handlers, **kwargs)
        if getattr(assoc, "_pt_record", None) is None:
            records.attach(assoc, record)
        if not assoc.is_established:
            if record.outcome == "open":
                record.outcome = "failed"
                record.ended_by = "connect-failed"
                record.detail = record.detail or f"could not open an association to {addr}:{port}"
            if not record.ended_by:
                record.ended_by = "closed"
            self.runtime.finish_record(record)
        return assoc


class _NotAssociated:
    """Stands in for an association that was never attempted (destination refused by policy)."""

    is_established = False

    class dul:
        class socket:
            @staticmethod
            def close() -> None:
                return None


def _outbound_open(event: Any, record: AssociationRecord) -> None:
    records.attach(event.assoc, record)
    nodelay(getattr(event.assoc.dul.socket, "socket", None))


def _outbound_close(event: Any, runtime: NodeRuntime) -> None:
    record = records.record_of(event.assoc)
    if record is not None and record.outcome not in ("refused",):
        if not record.ended_by:
            record.ended_by = "closed"
        runtime.finish_record(record)


def _inbound_close(event: Any, runtime: NodeRuntime) -> None:
    record = records.record_of(event.assoc)
    if record is None:
        return
    if record.outcome == "open":
        record.outcome = "aborted" if record.ended_by == "abort" else "failed"
        if not record.detail:
            record.detail = "the connection closed before an association was negotiated"
    if not record.ended_by:
        record.ended_by = "closed"
    runtime.finish_record(record)


class NodeRuntime:
    """A running node: its configuration, AE, server and store, inside the node host."""

    def __init__(
        self,
        config: NodeConfig,
        backend: NodeBackend,
        *,
        bind: str,
        handlers: Callable[[NodeRuntime], list[tuple[Any, ...]]],
        executor: ThreadPoolExecutor,
        usage: tuple[int, int] | None = None,
    ) -> None:
        self.backend = backend
        self.executor = executor
        self.bind = bind
        self._handlers_factory = handlers
        self.config = config
        self._contexts: list[PresentationContext] = build_contexts(config)
        self._recent: collections.deque[float] = collections.deque()
        self._recent_lock = threading.Lock()
        self.store = NodeStore(config, backend, usage)
        self.ae = NodeAE(ae_title=config.ae_title)
        self.ae.runtime = self
        self._apply_ae_settings()
        self.server: NodeServer | None = None
        self.last_activity = time.time()

    # --- lifecycle ----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Bind the port and hand the listening socket to the shared acceptor (well under a second; raises
        OSError if the port is taken)."""
        handlers = self._handlers_factory(self)
        handlers += [(e, h) for e, h in records.LOG_HANDLERS]
        handlers.append((evt.EVT_DIMSE_RECV, abort_invalid_request))
        handlers.append((evt.EVT_CONN_CLOSE, _inbound_close, [self]))
        server = cast(
            NodeServer,
            self.ae.make_server(
                (self.bind, self.config.port),
                ae_title=self.config.ae_title,
                contexts=self._contexts,
                evt_handlers=handlers,
                server_class=NodeServer,
                request_handler=NodeRequestHandler,
            ),
        )
        server.runtime = self
        self.ae._servers.append(server)
        self.server = server
        ACCEPTOR.add(server)

    def stop(self) -> None:
        """Stop listening at once and abort the node's open associations (PS3.8 §7.3 A-ABORT)."""
        server = self.server
        if server is None:
            return
        self.server = None
        try:
            ACCEPTOR.remove(server)
            server.server_close()
            if server in self.ae._servers:
                self.ae._servers.remove(server)
        except Exception:
            logger.exception("node %s: error while stopping", self.config.node_id)
        for assoc in server.active_associations:
            with contextlib.suppress(Exception):  # best effort while stopping
                assoc.abort()

    @property
    def running(self) -> bool:
        return self.server is not None

    def reconfigure(self, config: NodeConfig) -> None:
        """Apply a new configuration to new associations; the port never changes while running."""
        self.config = config
        self.store.config = config
        self._contexts = build_contexts(config)
        self._apply_ae_settings()
        if self.server is not None:
            self.server.ae_title = config.ae_title
            self.server.contexts = self._contexts

    def _apply_ae_settings(self) -> None:
        cfg = self.config
        self.ae.ae_title = cfg.ae_title
        self.ae.maximum_associations = max(1, cfg.max_associations)
        self.ae.require_called_aet = cfg.check_called_ae
        self.ae.maximum_pdu_size = MAX_PDU_RECEIVE
        self.ae.acse_timeout = ACSE_TIMEOUT
        self.ae.dimse_timeout = DIMSE_TIMEOUT
        self.ae.network_timeout = NETWORK_TIMEOUT
        self.ae.connection_timeout = CONNECTION_TIMEOUT

    def contexts_copy(self) -> list[PresentationContext]:
        """The contexts for a new association. pynetdicom only reads them while negotiating, so nodes with the
        same choices share one list (a deep copy per association cost ~12 ms and ~0.3 MB per idle node)."""
        return list(self._contexts)

    # --- admission (PS3.8 §9.3.4) ------------------------------------------------------------------------
    def admission(self, calling_ae: str, peer_address: str) -> tuple[int, int, int] | None:
        """The node's own reasons to reject an association request, or None to go on with pynetdicom's."""
        self.last_activity = time.time()
        cfg = self.config
        if cfg.faults.refuse:
            return cfg.faults.refuse
        now = time.monotonic()
        with self._recent_lock:
            while self._recent and now - self._recent[0] > 60:
                self._recent.popleft()
            self._recent.append(now)
            if cfg.max_associations_per_minute and len(self._recent) > cfg.max_associations_per_minute:
                return (2, 3, 1)  # rejected transient, presentation provider, temporary congestion
        if cfg.reject_unknown_calling:
            peer = cfg.peer(calling_ae)
            if peer is None:
                return (1, 1, 3)  # rejected permanent, service user, calling AE title not recognised
            if cfg.check_calling_host and not _same_host(peer.host, peer_address):
                return (1, 1, 3)
        return None

    def allowed(self, calling_ae: str, operation: str) -> bool:
        """May this caller do this operation? Everyone may when the node accepts unknown callers."""
        cfg = self.config
        if not cfg.reject_unknown_calling:
            return True
        peer = cfg.peer(calling_ae)
        return peer is not None and bool(getattr(peer, operation))

    def finish_record(self, record: AssociationRecord) -> None:
        if record.finished:
            return
        record.finished = True
        if record.duration_ms is None:
            record.duration_ms = round((time.monotonic() - record.start_mono) * 1000, 1)
        record.inflight.clear()
        self.last_activity = time.time()
        try:
            self.backend.record_association(record)
        except Exception:
            logger.exception("node %s: could not queue an association record", record.node_id)


def _same_host(configured: str, address: str) -> bool:
    try:
        infos = socket.getaddrinfo(configured, None)
    except (socket.gaierror, UnicodeError):
        return False
    return address in {str(i[4][0]) for i in infos}


def build_contexts(config: NodeConfig) -> list[PresentationContext]:
    """The presentation contexts the node accepts (PS3.8 §9.3.2.2): chosen storage classes with the chosen
    transfer syntaxes (SCP/SCU role selection allowed, so C-GET requesters can take the SCP role), and the
    service classes with uncompressed syntaxes. Shared between nodes with the same choices; never mutated."""
    return _contexts(config.accept_all_storage, tuple(config.sop_classes), tuple(config.transfer_syntaxes))


@functools.lru_cache(maxsize=256)
def _contexts(
    accept_all: bool, sop_classes: tuple[str, ...], transfer_syntaxes: tuple[str, ...]
) -> list[PresentationContext]:
    syntaxes = list(transfer_syntaxes) or list(catalog.UNCOMPRESSED)
    storage: Iterable[str] = catalog.STORAGE_SOP_CLASSES if accept_all else sop_classes
    contexts: list[PresentationContext] = []
    for uid in storage:
        cx = build_context(uid, syntaxes)
        cx.scu_role = True
        cx.scp_role = True
        contexts.append(cx)
    for uid in catalog.SERVICE_SOP_CLASSES:
        cx = build_context(uid, SERVICE_TRANSFER_SYNTAXES)
        if uid == catalog.STORAGE_COMMITMENT_PUSH:  # the result comes back with the roles reversed (PS3.4 §J.3.3)
            cx.scu_role = True
            cx.scp_role = True
        contexts.append(cx)
    return contexts


def prefer_requested(
    supported: list[PresentationContext], proposed: Iterable[PresentationContext]
) -> list[PresentationContext] | None:
    """The node's contexts with, for each abstract syntax proposed compressed-first, the transfer syntaxes in the
    requester's order of preference; None when nothing changes (the shared list is then used as it is).

    pynetdicom picks the first of the *acceptor's* syntaxes that the requester proposed, so a requester listing
    RLE before the uncompressed syntaxes in one context (as getscu ``+xr`` does for the storage contexts of a
    C-GET) would get an uncompressed context, and a stored RLE object could not be sent back on it. PS3.8
    §9.3.2.2 lets the acceptor choose any proposed syntax; honouring the requester's first choice keeps stored
    objects bit for bit."""
    first: dict[str, list[str]] = {}
    for cx in proposed:
        syntaxes = [str(ts) for ts in cx.transfer_syntax]
        if cx.abstract_syntax and syntaxes and syntaxes[0] not in catalog.UNCOMPRESSED:
            first.setdefault(str(cx.abstract_syntax), syntaxes)
    if not first:
        return None
    out: list[PresentationContext] = []
    changed = False
    for cx in supported:
        wanted = first.get(str(cx.abstract_syntax))
        offered = [str(ts) for ts in cx.transfer_syntax]
        if wanted and wanted[0] in offered and offered[0] != wanted[0]:
            ordered = [ts for ts in wanted if ts in offered] + [ts for ts in offered if ts not in wanted]
            new = build_context(str(cx.abstract_syntax), ordered)
            new.scu_role, new.scp_role = cx.scu_role, cx.scp_role
            out.append(new)
            changed = True
        else:
            out.append(cx)
    return out if changed else None


def stop_many(runtimes: Iterable[NodeRuntime], *, workers: int = 32) -> None:
    """Stop nodes in parallel (stopping is immediate, but aborting open associations can wait on peers)."""
    items = list(runtimes)
    if not items:
        return
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items))), thread_name_prefix="stop") as pool:
        list(pool.map(lambda rt: rt.stop(), items))

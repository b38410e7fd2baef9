"""A minimal raw DICOM upper-layer client for hostile-input tests: it builds PDUs byte by byte (PS3.8 §9.3), so
lengths, items and data sets can be anything, and reads back what the node answers (a status, an abort, or the
connection closed). Command sets are encoded with pynetdicom (implicit VR little endian, PS3.7 §6.3.1)."""

from __future__ import annotations

import io
import socket
import struct
from dataclasses import dataclass, field

from pydicom.dataset import Dataset
from pynetdicom.dsutils import decode, encode

VERIFICATION = "1.2.840.10008.1.1"
CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
STUDY_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
STUDY_MOVE = "1.2.840.10008.5.1.4.1.2.2.2"
STUDY_GET = "1.2.840.10008.5.1.4.1.2.2.3"
MWL_FIND = "1.2.840.10008.5.1.4.31"
COMMITMENT = "1.2.840.10008.1.20.1"
COMMITMENT_INSTANCE = "1.2.840.10008.1.20.1.1"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
CT_JPEG = f"{CT_STORAGE}|{JPEG_BASELINE}"
ALL_SYNTAXES = [VERIFICATION, CT_STORAGE, STUDY_FIND, STUDY_MOVE, STUDY_GET, MWL_FIND, COMMITMENT, CT_JPEG]
PENDING = {0xFF00, 0xFF01}


def item(kind: int, body: bytes) -> bytes:
    return bytes([kind, 0]) + struct.pack(">H", len(body)) + body


def pdu(kind: int, body: bytes) -> bytes:
    return bytes([kind, 0]) + struct.pack(">L", len(body)) + body


def associate_rq(called: str, calling: str, syntaxes: list[str] = ALL_SYNTAXES) -> bytes:
    """A-ASSOCIATE-RQ proposing each abstract syntax in its own context (ids 1, 3, 5, …), explicit VR LE."""
    contexts = b""
    for n, proposal in enumerate(syntaxes):
        uid, _, ts = proposal.partition("|")  # "abstract|transfer" proposes another transfer syntax
        body = bytes([2 * n + 1, 0, 0, 0]) + item(0x30, uid.encode()) + item(0x40, (ts or EXPLICIT_LE).encode())
        contexts += item(0x20, body)
    user = item(0x51, struct.pack(">L", 65536)) + item(0x52, b"1.2.826.0.1.3680043.9.7433")
    body = (
        b"\x00\x01\x00\x00"
        + called.encode().ljust(16)
        + calling.encode().ljust(16)
        + b"\x00" * 32
        + item(0x10, b"1.2.840.10008.3.1.1.1")
        + contexts
        + item(0x50, user)
    )
    return pdu(0x01, body)


def p_data(context_id: int, payload: bytes, *, command: bool, last: bool = True) -> bytes:
    header = (1 if command else 0) | (2 if last else 0)
    pdv = struct.pack(">L", len(payload) + 2) + bytes([context_id, header]) + payload
    return pdu(0x04, pdv)


def command_set(**elements: object) -> bytes:
    ds = Dataset()
    for keyword, value in elements.items():
        setattr(ds, keyword, value)
    encoded = encode(ds, True, True)
    assert encoded is not None
    return encoded


@dataclass
class Answer:
    """What the node answered: final DIMSE status, an A-ABORT / A-ASSOCIATE-RJ, or a closed connection."""

    statuses: list[int] = field(default_factory=list)
    aborted: bool = False
    rejected: bool = False
    closed: bool = False
    silent: bool = False

    @property
    def final(self) -> int | None:
        return self.statuses[-1] if self.statuses else None

    @property
    def refused(self) -> bool:
        """A failure status, an abort, a rejection or a closed connection: anything but success or silence."""
        if self.aborted or self.rejected or self.closed:
            return True
        return self.final is not None and self.final not in PENDING and self.final != 0x0000


class Wire:
    """One raw association to a node."""

    def __init__(self, port: int, timeout: float = 15.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.accepted: dict[str, int] = {}

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Wire:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self, n: int) -> bytes | None:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def read_pdu(self) -> tuple[int, bytes] | None:
        """The next PDU (type, body); None when the connection is closed."""
        header = self._read(6)
        if header is None:
            return None
        length = struct.unpack(">L", header[2:6])[0]
        body = self._read(length) if length else b""
        return (header[0], body) if body is not None else None

    def associate(self, called: str, syntaxes: list[str] = ALL_SYNTAXES) -> bool:
        self.sock.sendall(associate_rq(called, "FUZZER", syntaxes))
        got = self.read_pdu()
        if got is None or got[0] != 0x02:
            return False
        body, at = got[1][68:], 0
        while at + 4 <= len(body):
            kind, length = body[at], struct.unpack(">H", body[at + 2 : at + 4])[0]
            if kind == 0x21 and body[at + 6] == 0:  # presentation context accepted
                context_id = body[at + 4]
                self.accepted[syntaxes[(context_id - 1) // 2]] = context_id
            at += 4 + length
        return True

    def answer(self) -> Answer:
        """Read until a final status, an abort, a close; silence past the socket timeout is reported as such."""
        result = Answer()
        command = b""
        try:
            while True:
                got = self.read_pdu()
                if got is None:
                    result.closed = True
                    return result
                kind, body = got
                if kind == 0x07:
                    result.aborted = True
                    return result
                if kind == 0x03:
                    result.rejected = True
                    return result
                if kind != 0x04:
                    continue
                at = 0
                while at + 6 <= len(body):
                    length = struct.unpack(">L", body[at : at + 4])[0]
                    header = body[at + 5]
                    value = body[at + 6 : at + 4 + length]
                    at += 4 + length
                    if not header & 1:
                        continue  # a data set fragment (a match); only the command tells the status
                    command += value
                    if header & 2:
                        status = int(decode(io.BytesIO(command), True, True).Status)
                        command = b""
                        result.statuses.append(status)
                        if status not in PENDING:
                            return result
        except TimeoutError:
            result.silent = True
            return result
        except ConnectionError:
            result.closed = True
            return result

    def request(self, syntax: str, command: bytes, data: bytes | None) -> Answer:
        context_id = self.accepted[syntax]
        self.sock.sendall(p_data(context_id, command, command=True))
        if data is not None:
            self.sock.sendall(p_data(context_id, data, command=False))
        return self.answer()

    def release(self) -> None:
        try:
            self.sock.sendall(pdu(0x05, b"\x00" * 4))
            self.read_pdu()
        except OSError:
            pass


def request_command(
    operation: str, message_id: int = 1, *, sop_instance: str = "1.2.3.4", syntax: str = ""
) -> tuple[str, bytes]:
    """The abstract syntax and a valid command set for one DIMSE request with a data set."""
    base = {"MessageID": message_id, "CommandDataSetType": 0x0001}
    if operation == "C-ECHO":
        return VERIFICATION, command_set(
            AffectedSOPClassUID=VERIFICATION, CommandField=0x0030, MessageID=message_id, CommandDataSetType=0x0101
        )
    if operation == "C-STORE":
        return syntax or CT_STORAGE, command_set(
            AffectedSOPClassUID=CT_STORAGE, CommandField=0x0001, Priority=0, AffectedSOPInstanceUID=sop_instance, **base
        )
    if operation in ("C-FIND", "MWL"):
        syntax = STUDY_FIND if operation == "C-FIND" else MWL_FIND
        return syntax, command_set(AffectedSOPClassUID=syntax, CommandField=0x0020, Priority=0, **base)
    if operation == "C-MOVE":
        return STUDY_MOVE, command_set(
            AffectedSOPClassUID=STUDY_MOVE, CommandField=0x0021, Priority=0, MoveDestination="FUZZER", **base
        )
    if operation == "C-GET":
        return STUDY_GET, command_set(AffectedSOPClassUID=STUDY_GET, CommandField=0x0010, Priority=0, **base)
    if operation == "N-ACTION":
        return COMMITMENT, command_set(
            RequestedSOPClassUID=COMMITMENT,
            CommandField=0x0130,
            RequestedSOPInstanceUID=COMMITMENT_INSTANCE,
            ActionTypeID=1,
            **base,
        )
    raise ValueError(operation)


OPERATIONS = ["C-ECHO", "C-STORE", "C-FIND", "MWL", "C-MOVE", "C-GET", "N-ACTION"]


def element(group: int, elem: int, vr: str, value: bytes, *, length: int | None = None) -> bytes:
    """One explicit VR little endian element with any VR and any declared length (PS3.5 §7.1.2)."""
    declared = len(value) if length is None else length
    tag = struct.pack("<HH", group, elem)
    if vr in ("OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"):
        return tag + vr.encode() + b"\x00\x00" + struct.pack("<L", declared & 0xFFFFFFFF) + value
    return tag + vr.encode()[:2].ljust(2) + struct.pack("<H", declared & 0xFFFF) + value

"""DIMSE status codes (PS3.7 Annex C, PS3.4 service annexes) and A-ASSOCIATE-RJ reasons (PS3.8 §9.3.4),
each with a name, a category and a plain-English explanation for the association log."""

from __future__ import annotations

from dataclasses import dataclass

# --- DIMSE statuses ------------------------------------------------------------------------------------------
SUCCESS = 0x0000
PENDING = 0xFF00
PENDING_WARNING = 0xFF01
CANCEL = 0xFE00
OUT_OF_RESOURCES = 0xA700
OUT_OF_RESOURCES_MATCHES = 0xA701
OUT_OF_RESOURCES_SUBOPS = 0xA702
MOVE_DESTINATION_UNKNOWN = 0xA801
IDENTIFIER_MISMATCH = 0xA900
UNABLE_TO_PROCESS = 0xC000
DUPLICATE_INSTANCE = 0x0111
# C-STORE has no duplicate status of its own (PS3.4 §B.2.3); the node uses a code of the Cxxx "cannot
# understand" family, which every SCU treats as a failure, mnemonic of 0111H Duplicate SOP Instance.
DUPLICATE_REFUSED = 0xC111
NO_SUCH_OBJECT_INSTANCE = 0x0112
NOT_AUTHORIZED = 0x0124
SOP_CLASS_NOT_SUPPORTED = 0x0122
SUBOPS_WARNING = 0xB000
PROCESSING_FAILURE = 0x0110
NO_SUCH_ACTION = 0x0123


@dataclass(frozen=True)
class StatusInfo:
    code: int
    name: str
    category: str  # Success, Pending, Warning, Failure, Cancel
    explanation: str
    reference: str

    @property
    def hex(self) -> str:
        return f"0x{self.code:04X}"


_STATUSES: dict[int, tuple[str, str, str, str]] = {
    SUCCESS: ("Success", "Success", "The request was carried out.", "PS3.7 Annex C"),
    PENDING: (
        "Pending",
        "Pending",
        "A match or sub-operation is reported and more responses follow.",
        "PS3.4 §C.4.1.1.4, §C.4.2.1.5, §C.4.3.1.4",
    ),
    PENDING_WARNING: (
        "Pending (optional keys not supported)",
        "Pending",
        "A match is reported, but some optional keys in the query were not supported and were ignored.",
        "PS3.4 §C.4.1.1.4",
    ),
    CANCEL: ("Cancel", "Cancel", "The operation was cancelled by the requester (C-CANCEL).", "PS3.7 Annex C"),
    OUT_OF_RESOURCES: (
        "Refused: Out of Resources",
        "Failure",
        "The node has no room for this: its storage quota (bytes or instances) is used up. Free space or "
        "raise the quota.",
        "PS3.4 §B.2.3",
    ),
    OUT_OF_RESOURCES_MATCHES: (
        "Refused: Out of Resources - Unable to calculate number of matches",
        "Failure",
        "The node could not work out how many objects match.",
        "PS3.4 §C.4.2.1.5, §C.4.3.1.4",
    ),
    OUT_OF_RESOURCES_SUBOPS: (
        "Refused: Out of Resources - Unable to perform sub-operations",
        "Failure",
        "The node could not send the matching objects (for C-GET: the requester did not accept the storage "
        "contexts with the SCP role).",
        "PS3.4 §C.4.2.1.5, §C.4.3.1.4",
    ),
    MOVE_DESTINATION_UNKNOWN: (
        "Refused: Move Destination Unknown",
        "Failure",
        "The Move Destination AE title is not one of the node's known AEs allowed to receive moves, or the "
        "node could not open an association to it. Add the destination with its host and port, and make sure "
        "it is listening.",
        "PS3.4 §C.4.2.1.5",
    ),
    IDENTIFIER_MISMATCH: (
        "Error: Data Set does not match SOP Class",
        "Failure",
        "The data set (or query identifier) is missing attributes the SOP class requires, or has invalid "
        "ones (for example a malformed UID).",
        "PS3.4 §B.2.3, §C.4.1.1.4",
    ),
    UNABLE_TO_PROCESS: (
        "Failed: Unable to process",
        "Failure",
        "The node could not process the request: the data could not be read or an internal error occurred.",
        "PS3.4 §B.2.3, §C.4.1.1.4",
    ),
    DUPLICATE_INSTANCE: (
        "Failure: Duplicate SOP Instance",
        "Failure",
        "An object with this SOP Instance UID is already stored and the node's duplicate policy is 'reject'.",
        "PS3.7 Annex C (0111H)",
    ),
    DUPLICATE_REFUSED: (
        "Error: Cannot understand (duplicate SOP Instance refused)",
        "Failure",
        "An object with this SOP Instance UID is already stored and the node's duplicate policy is 'reject'. "
        "If the object really changed, the sender must give it a new SOP Instance UID.",
        "PS3.4 §B.2.3 (Cxxx: Cannot understand)",
    ),
    NO_SUCH_OBJECT_INSTANCE: (
        "Failure: No such SOP Instance",
        "Failure",
        "The referenced SOP instance is not stored on the node.",
        "PS3.7 Annex C (0112H)",
    ),
    NOT_AUTHORIZED: (
        "Refused: Not Authorized",
        "Failure",
        "The calling AE is known to the node but not allowed to do this operation; tick the operation for "
        "that AE in the node's known-AE list.",
        "PS3.7 Annex C (0124H)",
    ),
    SOP_CLASS_NOT_SUPPORTED: (
        "Refused: SOP Class not supported",
        "Failure",
        "The node does not provide this SOP class.",
        "PS3.7 Annex C (0122H)",
    ),
    PROCESSING_FAILURE: (
        "Failure: Processing failure",
        "Failure",
        "A general failure in processing the operation.",
        "PS3.7 Annex C (0110H)",
    ),
    NO_SUCH_ACTION: (
        "Failure: No such Action",
        "Failure",
        "The Action Type ID is not defined for this SOP class.",
        "PS3.7 Annex C (0123H)",
    ),
    SUBOPS_WARNING: (
        "Warning: Sub-operations complete, one or more failures",
        "Warning",
        "Some of the C-STORE sub-operations failed; see the failed count and the destination's answers.",
        "PS3.4 §C.4.2.1.5, §C.4.3.1.4",
    ),
    0xB007: (
        "Warning: Data Set does not match SOP Class",
        "Warning",
        "The object was stored, but it does not fully match its SOP class.",
        "PS3.4 §B.2.3",
    ),
    0xB006: (
        "Warning: Elements discarded",
        "Warning",
        "The object was stored, but some elements were discarded.",
        "PS3.4 §B.2.3",
    ),
}


def status_info(code: int) -> StatusInfo:
    """Name, category and explanation of a DIMSE status; unknown codes get their PS3.7 category by range."""
    if code in _STATUSES:
        name, category, explanation, reference = _STATUSES[code]
        return StatusInfo(code, name, category, explanation, reference)
    if code in (PENDING, PENDING_WARNING):
        category = "Pending"
    elif 0xA000 <= code <= 0xAFFF or 0xC000 <= code <= 0xCFFF or 0x0100 <= code <= 0x01FF:
        category = "Failure"
    elif 0xB000 <= code <= 0xBFFF or code == 0x0001:
        category = "Warning"
    else:
        category = "Failure"
    return StatusInfo(code, f"{category} (0x{code:04X})", category, f"A {category.lower()} status.", "PS3.7 Annex C")


# --- A-ASSOCIATE-RJ (PS3.8 §9.3.4) -------------------------------------------------------------------------
RESULTS = {1: "Rejected Permanent", 2: "Rejected Transient"}
SOURCES = {
    1: "Service User",
    2: "Service Provider (ACSE Related)",
    3: "Service Provider (Presentation Related)",
}
REASONS: dict[tuple[int, int], str] = {
    (1, 1): "No Reason Given",
    (1, 2): "Application Context Name Not Supported",
    (1, 3): "Calling AE Title Not Recognized",
    (1, 7): "Called AE Title Not Recognized",
    (2, 1): "No Reason Given",
    (2, 2): "Protocol Version Not Supported",
    (3, 1): "Temporary Congestion",
    (3, 2): "Local Limit Exceeded",
}
_REJECT_EXPLANATIONS: dict[tuple[int, int], str] = {
    (1, 1): "The node refused the association without giving a reason.",
    (1, 2): "The requester proposed an application context other than the DICOM one (1.2.840.10008.3.1.1.1).",
    (1, 3): "The calling AE title (the sender's own title{calling}) is not in the node's list of known AEs "
    "(or it came from a host that does not match the known AE), and the node rejects unknown callers. Add the "
    "device's exact AE title (and host) to the node's known AEs; titles are compared exactly, case and "
    "padding included.",
    (1, 7): "The called AE title{called} is not the node's AE title{node}. The sender must use the node's exact "
    "AE title (case matters).",
    (2, 1): "The node's ACSE refused the association without giving a reason.",
    (2, 2): "The requester asked for a protocol version the node does not support.",
    (3, 1): "The node is temporarily congested: too many associations in a short time (rate limit). Wait and "
    "retry, or send fewer associations.",
    (3, 2): "The node already has as many simultaneous associations as its limit allows. Reuse one "
    "association for many objects, release associations when done, or raise the limit deliberately.",
}


def reject_text(result: int, source: int, reason: int) -> str:
    """The line DCMTK prints: 'Result: Rejected Permanent, Source: Service User, Reason: …'."""
    return (
        f"Result: {RESULTS.get(result, f'unknown ({result})')}, "
        f"Source: {SOURCES.get(source, f'unknown ({source})')}, "
        f"Reason: {REASONS.get((source, reason), f'unknown ({reason})')}"
    )


def reject_explanation(
    result: int, source: int, reason: int, *, calling: str = "", called: str = "", node_ae: str = ""
) -> str:
    template = _REJECT_EXPLANATIONS.get((source, reason), "The association was rejected.")
    return template.format(
        calling=f" '{calling}'" if calling else "",
        called=f" '{called}'" if called else "",
        node=f" '{node_ae}'" if node_ae else "",
    )


REJECT_REFERENCE = "PS3.8 §9.3.4 (A-ASSOCIATE-RJ PDU)"
ABORT_REFERENCE = "PS3.8 §9.3.8 (A-ABORT PDU)"
RELEASE_REFERENCE = "PS3.8 §9.3.6-9.3.7 (A-RELEASE-RQ/RP PDU)"
CLOSED_REFERENCE = "PS3.8 §9.2 (upper layer state machine: transport connection closed, Evt17)"
CONTEXT_RESULTS = {
    0: "accepted",
    1: "user rejection",
    2: "no reason (provider rejection)",
    3: "abstract syntax not supported",
    4: "transfer syntaxes not supported",
}
CONTEXT_REFERENCE = "PS3.8 §9.3.3.2 (Presentation Context Item result)"

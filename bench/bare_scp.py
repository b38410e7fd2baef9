"""The pynetdicom floor for the ingest benchmark: a stock pynetdicom storage SCP whose handler only writes the
received bytes (preamble, file meta and the dataset as encoded on the wire; nothing decoded, nothing indexed).

    python bench/bare_scp.py DIRECTORY PORT

It answers every C-STORE with 0x0000. Same announced maximum PDU as a node (1 MiB) and TCP_NODELAY on the
accepted socket; none of the node's own changes to pynetdicom's reactor. A node can be no faster than this."""

from __future__ import annotations

import itertools
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from pynetdicom import AE, AllStoragePresentationContexts, evt
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]


def main() -> None:
    directory, port = Path(sys.argv[1]), int(sys.argv[2])
    directory.mkdir(parents=True, exist_ok=True)
    numbers = itertools.count()

    def on_open(event: Any) -> None:
        event.assoc.dul.socket.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def on_store(event: Any) -> int:
        (directory / f"{next(numbers)}.dcm").write_bytes(event.encoded_dataset(include_meta=True))
        return 0x0000

    ae = AE("BARE")
    ae.maximum_pdu_size = 1 << 20
    ae.supported_contexts = AllStoragePresentationContexts
    ae.add_supported_context(Verification)
    server = ae.start_server(
        ("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_CONN_OPEN, on_open), (evt.EVT_C_STORE, on_store)]
    )
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    if server is not None:
        server.shutdown()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main()

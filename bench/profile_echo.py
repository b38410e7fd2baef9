"""Round trip and node-host CPU per DIMSE message on one open association: a pynetdicom SCU sends C-ECHOs to a
learner node, one after another, then leaves the association open and idle.

    .venv/bin/python bench/profile_echo.py [--echoes 1000]

Prints the round-trip p50/p95 (the client's own reactor included, the same on both sides of an A/B), the host's
CPU milliseconds per echo, and the host's CPU share while the association sits idle."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import lone_node, setup_django

VERIFICATION = "1.2.840.10008.1.1"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--echoes", type=int, default=1000)
    parser.add_argument("--idle", type=float, default=3.0, help="seconds the association stays open and idle")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pt-echo-"))
    setup_django(storage=work / "nodes")
    import psutil
    from pynetdicom import AE

    with lone_node(work, username="bench-echo", ae_title="ECHOBENCH") as (host, node):
        proc = psutil.Process(host.pid)

        def cpu() -> float:
            times = proc.cpu_times()
            return float(times.user + times.system)

        ae = AE(ae_title="BENCHSCU")
        ae.add_requested_context(VERIFICATION)
        assoc = ae.associate("127.0.0.1", node.port, ae_title=node.ae_title)
        assert assoc.is_established, "the node did not accept the association"
        for _ in range(50):  # warm-up
            assoc.send_c_echo()
        rounds: list[float] = []
        used = cpu()
        for _ in range(args.echoes):
            start = time.perf_counter()
            assoc.send_c_echo()
            rounds.append(time.perf_counter() - start)
        used = cpu() - used
        idle = cpu()
        time.sleep(args.idle)
        idle = (cpu() - idle) / args.idle
        assoc.release()
        rounds.sort()
        p50, p95 = rounds[len(rounds) // 2], rounds[int(len(rounds) * 0.95)]
        print(f"{args.echoes} C-ECHO on one association: round trip p50 {p50 * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms;"
              f" host CPU {used * 1000 / args.echoes:.2f} ms/echo; open idle association: host CPU {idle:.1%}",
              flush=True)  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Profile the node host while storescu sends the ingest data set: py-spy attached to the host process.

    .venv/bin/python bench/profile_ingest.py [--images 200] [--size 512] [--out bench/results/ingest.svg]

Writes a flame graph (SVG) or, with --format speedscope/raw, py-spy's other formats; prints the top frames."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import lone_node, run_tool, setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--sends", type=int, default=3)
    parser.add_argument("--out", default="bench/results/profile-ingest.txt")
    parser.add_argument("--no-spy", action="store_true", help="only measure images/s")
    parser.add_argument("--format", default="raw", choices=["raw", "flamegraph", "speedscope"])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pt-profile-"))
    setup_django(storage=work / "nodes")
    from labs.dicom.synthetic import study, write_study

    folder = work / "data"
    write_study(study(seed=3, series=1, images=args.images, size=args.size), folder)
    with lone_node(work, username="bench-profile", ae_title="PROFILE") as (host, node):
        spy_command = [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(host.pid), "--threads"]
        spy_command += ["--gil", "--rate", "200", "--format", args.format, "--output", args.out, "--nonblocking"]
        spy = None if args.no_spy else subprocess.Popen(spy_command)
        time.sleep(1)
        import psutil

        proc = psutil.Process(host.pid)
        for _ in range(args.sends):
            cpu = sum(proc.cpu_times()[:2])
            seconds = run_tool(["storescu", "-aec", node.ae_title, "+sd", "127.0.0.1", str(node.port), str(folder)],
                               what="storescu")  # fmt: skip
            used = sum(proc.cpu_times()[:2]) - cpu
            print(f"{args.images} images in {seconds:.2f} s = {args.images / seconds:.0f} images/s, host CPU "
                  f"{used * 1000 / args.images:.2f} ms/image", flush=True)  # fmt: skip
        if spy is not None:
            spy.send_signal(2)
            spy.wait(60)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Run the benchmarks, write bench/results/<stamp>.json (and latest.json), and regenerate docs/PERFORMANCE.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pt_bench REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/run.py [--only nodes,ingest,qr,grading,web,data] [--quick] [--runs N]

The database named by DATABASE_URL is a scratch database: the benchmarks create and delete their own users,
nodes, items and attempts in it (never point it at real data). --quick runs small sizes for development; the
document is regenerated from every section in latest.json, so one --only run replaces only its own section."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine, progress, setup_django

BENCHMARKS = ["nodes", "ingest", "qr", "grading", "web", "data"]
RESULTS = ROOT / "bench" / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="comma-separated subset of: " + ", ".join(BENCHMARKS))
    parser.add_argument("--quick", action="store_true", help="small sizes and 2 runs, for development")
    parser.add_argument("--runs", type=int, default=0, help="runs per figure (2 quick, else FULL_RUNS)")
    parser.add_argument("--no-doc", action="store_true", help="do not regenerate docs/PERFORMANCE.md")
    parser.add_argument("--doc-only", action="store_true", help="only regenerate docs/PERFORMANCE.md from latest.json")
    args = parser.parse_args(argv)
    if args.doc_only:
        from bench.report import render

        (ROOT / "docs" / "PERFORMANCE.md").write_text(render(json.loads((RESULTS / "latest.json").read_text())))
        return 0
    chosen = [b.strip() for b in args.only.split(",") if b.strip()] or BENCHMARKS
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    runs = args.runs or (2 if args.quick else 5)
    work = Path(tempfile.mkdtemp(prefix="pt-bench-"))
    setup_django(storage=work / "nodes")
    import importlib

    RESULTS.mkdir(parents=True, exist_ok=True)
    command = "python bench/run.py" + (f" --only {','.join(chosen)}" if args.only else "")
    command += " --quick" if args.quick else ""
    command += f" --runs {args.runs}" if args.runs else ""
    result: dict[str, object] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "quick": args.quick,
        "runs": runs,
        "machine": machine(),
        "sections": {},
    }
    failed = []
    try:
        for name in chosen:
            progress(f"{name}: starting")
            began = time.perf_counter()
            load = [round(x, 1) for x in os.getloadavg()]
            module = importlib.import_module(f"bench.{name}")
            section_runs = args.runs or (2 if args.quick else getattr(module, "FULL_RUNS", runs))
            try:
                section = module.run(work, quick=args.quick, runs=section_runs)
            except Exception:
                traceback.print_exc()
                failed.append(name)
                continue
            section.details["seconds"] = round(time.perf_counter() - began, 1)
            section.details["load_average"] = load
            section.details["command"] = command
            section.details["quick"] = args.quick
            section.details["runs"] = section_runs
            section.details["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
            result["sections"][name] = section.as_dict()  # type: ignore[index]
            progress(f"{name}: done in {section.details['seconds']} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"{stamp}{'-quick' if args.quick else ''}.json").write_text(json.dumps(result, indent=1, default=str))
    latest_path = RESULTS / "latest.json"
    latest = json.loads(latest_path.read_text()) if latest_path.exists() else {"sections": {}}
    latest["machine"] = result["machine"]
    latest["sections"].update(result["sections"])
    latest_path.write_text(json.dumps(latest, indent=1, default=str))
    if not args.no_doc:
        from bench.report import render

        (ROOT / "docs" / "PERFORMANCE.md").write_text(render(latest))
        progress("docs/PERFORMANCE.md regenerated")
    if failed:
        progress(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

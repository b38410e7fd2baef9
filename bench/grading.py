"""Grading: 50 learners press "Check my work" at once on a typical lab (register-ct-scanner: a configuration
check and two active C-ECHO probes of the learner's node), real Redis, 1 and 2 real Celery workers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.common import ROOT, Figure, Section, nodehost, nodes_delete, pct, progress, wait_for

LAB = "register-ct-scanner"
FULL_RUNS = 3


@contextmanager
def workers(work: Path, count: int) -> Iterator[None]:
    """`count` Celery worker processes, one task at a time each (prefork, concurrency 1)."""
    from trainer.celery import app

    app.control.purge()
    procs = []
    for n in range(count):
        log = (work / f"celery-{count}-{n}.log").open("ab")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "trainer", "worker", "--loglevel", "WARNING", "--concurrency", "1",
             "--without-gossip", "--without-mingle", "--hostname", f"bench{n}-{os.getpid()}@%h"],
            cwd=ROOT, env={**os.environ}, stdout=log, stderr=subprocess.STDOUT,
        ))  # fmt: skip
    try:
        wait_for(lambda: len(app.control.ping(timeout=0.5) or []) >= count, timeout=60, what="celery workers")
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def run(work: Path, *, quick: bool, runs: int) -> Section:
    from labs.grading.models import GradingRun, LabAttempt
    from labs.grading.services import grading_run_request, lab_start
    from labs.nodes.models import Node
    from trainer.accounts.models import User

    learners_count = 10 if quick else 50
    learners = [User.objects.get_or_create(username=f"bench-grader-{i}")[0] for i in range(learners_count)]
    for learner in learners:
        LabAttempt.objects.filter(learner=learner).delete()
        nodes_delete(learner)
    results: dict[int, dict[str, list[float]]] = {
        n: {"p50": [], "p95": [], "all": [], "rate": [], "own": []} for n in (1, 2)
    }
    checks = 0
    with nodehost(work, host_id="bench-grading"):
        attempts = [lab_start(learner=learner, slug=LAB) for learner in learners]
        node_ids = [a.node_id for a in attempts if a.node_id is not None]
        wait_for(lambda: Node.objects.filter(pk__in=node_ids, status="running").count() == len(node_ids),
                 timeout=120, what="lab nodes running")  # fmt: skip
        for r in range(runs):
            for count in (1, 2) if r % 2 == 0 else (2, 1):
                progress(f"grading: run {r + 1}/{runs}, {count} worker(s)")
                with workers(work, count):
                    started = time.time()
                    runs_made = [grading_run_request(attempt=a) for a in attempts]
                    ids = [g.pk for g in runs_made]

                    def finished(ids: list[int] = ids) -> bool:
                        return GradingRun.objects.filter(pk__in=ids, finished__isnull=False).count() == len(ids)

                    wait_for(finished, timeout=600, what="grading runs finished")
                    done = list(GradingRun.objects.filter(pk__in=ids))
                latencies = [(g.finished - g.created).total_seconds() for g in done if g.finished]
                own = [(g.finished - g.started).total_seconds() * 1000 for g in done if g.finished and g.started]
                results[count]["own"].append(pct(own, 0.5))
                last = max(g.finished.timestamp() for g in done if g.finished)
                results[count]["p50"].append(pct(latencies, 0.5))
                results[count]["p95"].append(pct(latencies, 0.95))
                results[count]["all"].append(last - started)
                results[count]["rate"].append(len(done) / (last - started))
                checks = max(g.total_checks for g in done)
                failed = [g.error for g in done if g.status == "failed"]
                if failed:
                    raise RuntimeError(f"grading runs failed: {failed[:3]}")
        for learner in learners:
            nodes_delete(learner)
    figures = []
    for count in (1, 2):
        res = results[count]
        p95 = Figure(f"grading_p95_{count}w", f"{learners_count} at once, {count} worker(s): request → run finished, "
                     "p95", "s", res["p95"], target="< 3")  # fmt: skip
        p95.met = p95.median < 3
        figures += [
            Figure(f"grading_p50_{count}w", f"{learners_count} at once, {count} worker(s): p50", "s", res["p50"]),
            p95,
            Figure(f"grading_all_{count}w", f"{learners_count} at once, {count} worker(s): all {learners_count} "
                   "finished", "s", res["all"]),
            Figure(f"grading_rate_{count}w", f"Throughput, {count} worker(s)", "runs/s", res["rate"],
                   better="higher"),
            Figure(f"grading_own_{count}w", f"One run's own time (started → finished), p50, {count} worker(s)", "ms",
                   res["own"]),
        ]  # fmt: skip
    one = next(f for f in figures if f.key == "grading_rate_1w").median
    two = next(f for f in figures if f.key == "grading_rate_2w").median
    own_ms = next(f for f in figures if f.key == "grading_own_1w").median
    reading = (
        f"A run takes {own_ms:.0f} ms of its own (median, one worker); the rest of a learner's wait is the queue. "
        f"Each run is {checks} checks (the lab's configuration check and two C-ECHO probes opened to the learner's "
        "node from the worker). Runs queue behind each other: the p95 is the time the 50th learner waits for "
        f"the queue to drain. The page polls every second, so a learner sees the result up to 1 s after it is "
        f"written. Two workers give {two / one:.1f}× the throughput of one on this 2-core machine."
    )
    return Section("grading", "Grading latency (\"Check my work\")", figures, reading,
                   {"learners": learners_count, "lab": LAB, "checks_per_run": checks})  # fmt: skip

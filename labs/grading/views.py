"""Lab pages: catalogue, a lab (start, node address, DCMTK commands, instructions, tasks, runs), "Check my work"
and the htmx-polled run. Thin views; a learner sees only their own attempts and runs (404 otherwise)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from labs.grading import selectors, services
from labs.nodes.selectors import node_public_host
from labs.scenarios.loader import lab_catalogue, lab_get
from trainer.bank.presentation import render_markdown


@login_required
@require_safe
def lab_list(request: HttpRequest) -> HttpResponse:
    attempts = {a.lab_slug: a for a in selectors.attempts_of(request.user)}
    labs = [(lab, attempts.get(slug)) for slug, lab in sorted(lab_catalogue().items())]
    return render(request, "labs/list.html", {"labs": labs})


@login_required
@require_safe
def lab_detail(request: HttpRequest, slug: str) -> HttpResponse:
    lab = lab_get(slug)
    attempt = selectors.attempts_of(request.user, slug).first()
    node = attempt.node if attempt else None
    host = node_public_host(node) if node else ""
    context = {
        "lab": lab,
        "attempt": attempt,
        "node": node,
        "host": host,
        "instructions": render_markdown(lab.instructions),
        "runs": list(attempt.runs.all()[:20]) if attempt else [],
    }
    return render(request, "labs/detail.html", context)


@login_required
@require_POST
def lab_start(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        services.lab_start(learner=request.user, slug=slug)  # type: ignore[arg-type]
    except services.LabError as exc:
        messages.error(request, str(exc))
    return redirect("labs:detail", slug=slug)


@login_required
@require_POST
def attempt_check(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = selectors.attempt_of(request.user, attempt_id)
    try:
        run = services.grading_run_request(attempt=attempt)
    except services.LabError as exc:
        messages.error(request, str(exc))
        return redirect("labs:detail", slug=attempt.lab_slug)
    return redirect("labs:run", run_id=run.pk)


@login_required
@require_POST
def attempt_answer(request: HttpRequest, attempt_id: int, task_key: str) -> HttpResponse:
    attempt = selectors.attempt_of(request.user, attempt_id)
    try:
        services.attempt_answer(attempt=attempt, task_key=task_key, text=request.POST.get("answer", ""))
    except services.LabError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Answer saved. It is graded when you press Check my work.")
    return redirect("labs:detail", slug=attempt.lab_slug)


@login_required
@require_safe
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = selectors.run_of(request.user, run_id)
    context = {
        "run": run,
        "lab": lab_get(run.attempt.lab_slug),
        "results": list(run.results.all()),
        "progress": selectors.run_progress(run),
    }
    template = "labs/_run.html" if request.headers.get("HX-Request") else "labs/run.html"
    return render(request, template, context)


@login_required
@require_safe
def lab_study(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    lab = lab_get(slug)
    if key not in {s.key for s in lab.studies}:
        raise Http404("No such study")
    response = HttpResponse(services.lab_study_zip(lab=lab, key=key), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{slug}-{key}.zip"'
    return response

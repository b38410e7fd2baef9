"""Lab pages: catalogue, a lab (start, node address, DCMTK commands, instructions, tasks, runs), "Check my work"
and the htmx-polled run. Thin views; a learner sees only their own attempts and runs (404 otherwise)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from labs.grading import peer_services, selectors, services
from labs.grading.forms import PeerSettingsForm
from labs.grading.models import LabPeer
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
    values = selectors.attempt_placeholders(attempt) if attempt else {}
    context = {
        "lab": lab,
        "attempt": attempt,
        "node": node,
        "host": host,
        "peers": selectors.attempt_peers(attempt) if attempt else [],
        "instructions": render_markdown(selectors.fill_placeholders(lab.instructions, values)),
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


# --- the simulated peers' consoles ------------------------------------------------------------------------------
@login_required
@require_safe
def peer_console(request: HttpRequest, attempt_id: int, key: str) -> HttpResponse:
    peer = selectors.peer_of(request.user, attempt_id, key)
    s = peer.settings
    lab = lab_get(peer.attempt.lab_slug)
    spec = selectors.peer_spec(peer, lab)
    form = PeerSettingsForm(
        initial={
            "dest_ae": s.get("dest_ae", ""),
            "dest_host": s.get("dest_host", ""),
            "dest_port": s.get("dest_port", ""),
            "one_association_per_image": s.get("one_association_per_image", False),
            "declared_charset": s.get("declared_charset") or "",
            "new_uids": s.get("new_uids", False),
        },
        spec=spec,
    )
    context = {
        "peer": peer,
        "lab": lab,
        "spec": next((p for p in lab.peers if p.key == peer.key), None),
        "host": node_public_host(peer.node),
        "form": form,
        "pending": bool(s.get("send_token")),
        "logs": selectors.peer_log(peer),
    }
    template = "labs/_peer_activity.html" if request.headers.get("HX-Request") else "labs/peer.html"
    return render(request, template, context)


@login_required
@require_POST
def peer_settings(request: HttpRequest, attempt_id: int, key: str) -> HttpResponse:
    peer = selectors.peer_of(request.user, attempt_id, key)
    form = PeerSettingsForm(request.POST, spec=selectors.peer_spec(peer, lab_get(peer.attempt.lab_slug)))
    if not form.is_valid():
        problems = [f"{form.fields[f].label}: {' '.join(map(str, e))}" for f, e in form.errors.items()]
        messages.error(request, "; ".join(problems))
        return redirect("labs:peer", attempt_id=attempt_id, key=key)
    try:
        peer_services.peer_settings_update(peer=peer, **form.cleaned_data)
        messages.success(request, "Settings saved.")
    except peer_services.PeerError as exc:
        messages.error(request, str(exc))
    return redirect("labs:peer", attempt_id=attempt_id, key=key)


def _console_action(request: HttpRequest, attempt_id: int, key: str, action: Callable[[LabPeer], str]) -> HttpResponse:
    peer = selectors.peer_of(request.user, attempt_id, key)
    try:
        messages.info(request, action(peer))
    except peer_services.PeerError as exc:
        messages.error(request, str(exc))
    return redirect("labs:peer", attempt_id=attempt_id, key=key)


@login_required
@require_POST
def peer_send(request: HttpRequest, attempt_id: int, key: str) -> HttpResponse:
    def send(peer: LabPeer) -> str:
        peer_services.peer_send_request(peer=peer)
        return "Sending: the result shows below in a moment."

    return _console_action(request, attempt_id, key, send)


@login_required
@require_POST
def peer_commit(request: HttpRequest, attempt_id: int, key: str) -> HttpResponse:
    return _console_action(request, attempt_id, key, lambda peer: peer_services.peer_commit_request(peer=peer).message)

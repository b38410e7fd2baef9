"""Lab pages: catalogue, a lab (start, node address, DCMTK commands, instructions, tasks, runs), "Check my work"
and the htmx-polled run. Thin views; a learner sees only their own attempts and runs (404 otherwise)."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from labs.grading import peer_services, selectors, services
from labs.grading.forms import PeerSettingsForm
from labs.grading.models import LabAttempt, LabPeer
from labs.nodes.selectors import node_public_host
from labs.scenarios.loader import LabFileError, lab_get, labs_all
from trainer.bank.presentation import render_markdown
from trainer.core.permissions import instructor_required
from trainer.courses.selectors import courses_taught_by, lab_assignments_of


@login_required
@require_safe
def lab_list(request: HttpRequest) -> HttpResponse:
    attempts: dict[str, LabAttempt] = {}
    for a in selectors.attempts_of(request.user):  # newest first: keep the best score over all attempts
        if a.lab_slug not in attempts or a.best_score > attempts[a.lab_slug].best_score:
            attempts[a.lab_slug] = a
    labs = [(lab, attempts.get(slug)) for slug, lab in sorted(labs_all().items())]
    return render(request, "labs/list.html", {"labs": labs})


@login_required
@require_safe
def lab_detail(request: HttpRequest, slug: str) -> HttpResponse:
    lab = lab_get(slug)
    attempts = list(selectors.attempts_of(request.user, slug)[:10])
    attempt = attempts[0] if attempts else None
    if attempt is not None:
        services.lab_attempt_enforce_deadline(attempt=attempt)
    node = attempt.node if attempt and attempt.is_open else None
    host = node_public_host(node) if node else ""
    values = selectors.attempt_placeholders(attempt) if attempt else {}
    context = {
        "lab": lab,
        "attempt": attempt,
        "earlier": attempts[1:],
        "node": node,
        "host": host,
        "peers": selectors.attempt_peers(attempt) if attempt else [],
        "now": timezone.now(),
        "instructions": render_markdown(selectors.fill_placeholders(lab.instructions, values)),
        "runs": list(attempt.runs.all()[:20]) if attempt else [],
        "assigned": lab_assignments_of(request.user, slug),  # type: ignore[arg-type]
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
def attempt_reset(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = selectors.attempt_of(request.user, attempt_id)
    try:
        services.lab_attempt_reset(attempt=attempt)
        messages.success(request, "Your lab is back to its starting state (same address, fresh node).")
    except services.LabError as exc:
        messages.error(request, str(exc))
    return redirect("labs:detail", slug=attempt.lab_slug)


@login_required
@require_POST
def attempt_finish(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = selectors.attempt_of(request.user, attempt_id)
    services.lab_attempt_finish(attempt=attempt)
    messages.success(request, f"Attempt finished with {attempt.best_score}/{attempt.max_score} points.")
    return redirect("labs:detail", slug=attempt.lab_slug)


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
    lab = lab_get(run.attempt.lab_slug)
    context = {
        "run": run,
        "lab": lab,
        "results": selectors.run_results(run, lab),
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
    lab = lab_get(peer.attempt.lab_slug)
    spec = selectors.peer_spec(peer, lab)
    context = {
        "peer": peer,
        "lab": lab,
        "spec": spec,
        "host": node_public_host(peer.node),
        "form": PeerSettingsForm.showing(peer.settings, spec),
        "pending": bool(peer.settings.get("send_token")),
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


# --- instructors ---------------------------------------------------------------------------------------------


class LabUploadForm(forms.Form):
    file = forms.FileField(required=False, help_text="A lab file (YAML), as in fixtures/labs.")
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 10}), label="…or paste it")


@instructor_required
def teach(request: HttpRequest) -> HttpResponse:
    """Upload a lab of one's own (validated with located errors) and see one's uploaded labs and courses."""
    errors: list[str] = []
    form = LabUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload is not None:
                text, source = upload.read().decode("utf-8"), upload.name
            else:
                text, source = form.cleaned_data["text"], "pasted text"
            if not text.strip():
                raise LabFileError("Choose a lab file or paste one.")
            row = services.uploaded_lab_save(by=request.user, text=text, source=source)  # type: ignore[arg-type]
        except UnicodeDecodeError:
            errors = ["The file is not UTF-8 text."]
        except LabFileError as exc:
            errors = str(exc).splitlines()
        else:
            messages.success(request, f"Lab “{row.title}” saved: learners find it at /labs/{row.slug}/.")
            return redirect("labs:teach")
    context = {
        "form": form,
        "errors": errors,
        "uploaded": selectors.uploaded_labs_of(request.user),
        "courses": courses_taught_by(request.user),  # type: ignore[arg-type]
    }
    return render(request, "labs/teach.html", context, status=400 if errors else 200)


@instructor_required
@require_POST
def teach_lab_delete(request: HttpRequest, slug: str) -> HttpResponse:
    lab = get_object_or_404(selectors.uploaded_labs_of(request.user), slug=slug)
    try:
        services.uploaded_lab_delete(lab=lab)
        messages.success(request, f"Lab “{lab.title}” deleted.")
    except services.LabError as exc:
        messages.error(request, str(exc))
    return redirect("labs:teach")


@instructor_required
@require_safe
def teach_course(request: HttpRequest, code: str) -> HttpResponse:
    """The lab attempts of a course's learners: per lab, each learner's attempts with status, best score, runs."""
    course = get_object_or_404(courses_taught_by(request.user), code=code)  # type: ignore[arg-type]
    labs = labs_all()
    by_lab: dict[str, list[LabAttempt]] = {}
    for attempt in selectors.attempts_of_course(course):
        by_lab.setdefault(attempt.lab_slug, []).append(attempt)
    groups = [(labs.get(slug), slug, attempts) for slug, attempts in by_lab.items()]
    return render(request, "labs/teach_course.html", {"course": course, "groups": groups})


@instructor_required
@require_safe
def teach_attempt(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """One learner's attempt for their teacher: every run with its per-check results, evidence and hints."""
    attempt = selectors.attempt_for_teacher(request.user, attempt_id)
    lab = labs_all().get(attempt.lab_slug)
    runs = [(run, selectors.run_results(run, lab)) for run in attempt.runs.all()[:50]]
    return render(request, "labs/teach_attempt.html", {"attempt": attempt, "runs": runs})

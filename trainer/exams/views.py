from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from trainer.accounts.models import User
from trainer.bank.models import Blueprint
from trainer.bank.scoring import InvalidResponse, response_from_form
from trainer.core.permissions import instructor_required
from trainer.exams.assembly import AssemblyError
from trainer.exams.models import AttemptItem, AttemptStatus, ExamAttempt, ExamForm
from trainer.exams.selectors import (
    earlier_attempts,
    exam_question,
    exam_review_items,
    exams_available,
    navigator,
    time_stats,
)
from trainer.exams.services import (
    ExamClosed,
    exam_enforce_deadline,
    exam_form_publish,
    exam_save_answer,
    exam_start,
    exam_submit,
)


def _learner(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _attempt(request: HttpRequest, pk: int) -> ExamAttempt:
    attempt = get_object_or_404(ExamAttempt, pk=pk, learner=_learner(request))
    return exam_enforce_deadline(attempt)


@login_required
@require_safe
def exams_home(request: HttpRequest) -> HttpResponse:
    learner = _learner(request)
    attempts = ExamAttempt.objects.filter(learner=learner).select_related("track")[:20]
    return render(
        request, "exams/home.html",
        {"blueprints": exams_available(learner), "attempts": attempts, "error": request.GET.get("error", ""),
         "forms": ExamForm.objects.filter(published=True).select_related("track").order_by("track__order", "-created")},
    )  # fmt: skip


@instructor_required
@require_POST
def form_publish(request: HttpRequest, code: str) -> HttpResponse:
    """Freeze an assembly of the blueprint as a fixed form learners can sit."""
    blueprint = get_object_or_404(Blueprint, code=code)
    try:
        form = exam_form_publish(blueprint=blueprint, by=_learner(request))
    except AssemblyError as exc:
        messages.error(request, str(exc))
        return redirect("bank:blueprints")
    messages.success(request, f"Published “{form.name}” ({form.form_items.count()} items).")
    return redirect("exams:home")


@login_required
@require_POST
def form_begin(request: HttpRequest, pk: int) -> HttpResponse:
    form = get_object_or_404(ExamForm, pk=pk, published=True)
    attempt = exam_start(learner=_learner(request), form=form)
    return redirect("exams:question", pk=attempt.pk, n=1)


@login_required
@require_POST
def exam_begin(request: HttpRequest, code: str) -> HttpResponse:
    blueprint = get_object_or_404(Blueprint, code=code)
    try:
        attempt = exam_start(learner=_learner(request), blueprint=blueprint)
    except AssemblyError as exc:
        blueprints = exams_available(_learner(request))
        return render(request, "exams/home.html", {"blueprints": blueprints, "error": str(exc)}, status=409)
    return redirect("exams:question", pk=attempt.pk, n=1)


@login_required
@require_safe
def attempt_question(request: HttpRequest, pk: int, n: int) -> HttpResponse:
    attempt = _attempt(request, pk)
    if not attempt.is_active:
        return redirect("exams:report", pk=attempt.pk)
    try:
        question = exam_question(attempt, n)
    except Exception as exc:
        raise Http404("No such question in this exam.") from exc
    return render(
        request, "exams/question.html",
        {"attempt": attempt, "q": question, "nav": navigator(attempt), "now": timezone.now()},
    )  # fmt: skip


@login_required
@require_POST
def attempt_save(request: HttpRequest, pk: int, n: int) -> HttpResponse:
    """Every click lands here (htmx on change); without JavaScript the form posts and moves on."""
    attempt = _attempt(request, pk)
    slot = get_object_or_404(AttemptItem.objects.select_related("item"), attempt=attempt, position=n)
    try:
        if not attempt.is_active:
            raise ExamClosed("This exam is over: answers can no longer be changed.")
        raw = response_from_form(slot.item.type, request.POST)
        has_answer = any(v not in (None, "", [], {}) for v in raw.values())
        flag_values = request.POST.getlist("flagged")  # a hidden "0" before the checkbox's "1"
        flagged = True if "1" in flag_values else (False if "0" in flag_values else None)
        time_ms = int(request.POST["time_ms"]) if request.POST.get("time_ms", "").isdigit() else 0
        slot = exam_save_answer(
            attempt=attempt, position=n, raw=raw if has_answer else None, flagged=flagged, time_spent_ms=time_ms
        )
    except ExamClosed as exc:
        if request.htmx:  # type: ignore[attr-defined]
            return render(request, "exams/_save_status.html", {"error": str(exc), "closed": True}, status=409)
        return redirect("exams:report", pk=attempt.pk)
    except InvalidResponse as exc:
        return render(request, "exams/_save_status.html", {"error": str(exc)}, status=422)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "exams/_save_status.html", {"slot": slot, "saved_at": timezone.now()})
    go = request.POST.get("go", "next")
    total = attempt.attempt_items.count()
    target = {"prev": max(1, n - 1), "next": min(total, n + 1)}.get(go, n)
    if go == "review":
        return redirect("exams:review", pk=attempt.pk)
    return redirect("exams:question", pk=attempt.pk, n=target)


@login_required
@require_safe
def attempt_review(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = _attempt(request, pk)
    if not attempt.is_active:
        return redirect("exams:report", pk=attempt.pk)
    nav = navigator(attempt)
    return render(
        request, "exams/review.html",
        {"attempt": attempt, "nav": nav, "unanswered": [c for c in nav if not c.answered],
         "flagged": [c for c in nav if c.flagged], "now": timezone.now()},
    )  # fmt: skip


@login_required
@require_POST
def attempt_submit(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = _attempt(request, pk)
    exam_submit(attempt=attempt)
    return redirect("exams:report", pk=attempt.pk)


@login_required
@require_safe
def attempt_report(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = _attempt(request, pk)
    if attempt.status == AttemptStatus.ACTIVE:
        return redirect("exams:question", pk=attempt.pk, n=1)
    return render(
        request, "exams/report.html",
        {"attempt": attempt, "items": exam_review_items(attempt), "earlier": earlier_attempts(attempt),
         "times": time_stats(attempt)},
    )  # fmt: skip

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from trainer.accounts.models import User
from trainer.bank.models import Item, Track
from trainer.bank.scoring import InvalidResponse, response_from_form
from trainer.practice.forms import PracticeStartForm
from trainer.practice.models import PracticeMode, PracticeSession
from trainer.practice.selectors import due_cards_count, mastery_by_domain
from trainer.practice.services import (
    PracticeError,
    item_flag_set,
    practice_advance,
    practice_answer,
    practice_current,
    practice_session_start,
)


def _learner(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
@require_http_methods(["GET", "POST"])
def practice_home(request: HttpRequest) -> HttpResponse:
    learner = _learner(request)
    form = PracticeStartForm(request.POST or None, track_code=learner.exam_track)
    if request.method == "POST" and form.is_valid():
        try:
            session = practice_session_start(
                learner=learner, track=form.cleaned_data["track"], mode=form.cleaned_data["mode"],
                domain_codes=form.cleaned_data["domains"], tags=form.cleaned_data["tags"],
                count=form.cleaned_data["count"],
            )  # fmt: skip
        except PracticeError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("practice:session", pk=session.pk)
    recent = PracticeSession.objects.filter(learner=learner)[:5]
    return render(request, "practice/home.html", {"form": form, "recent": recent, "due": due_cards_count(learner)})


@login_required
@require_POST
def review_start(request: HttpRequest) -> HttpResponse:
    learner = _learner(request)
    track = get_object_or_404(Track, code=learner.exam_track)
    try:
        session = practice_session_start(learner=learner, track=track, mode=PracticeMode.DUE, count=50)
    except PracticeError:
        messages.info(request, "Nothing is due for review right now. Practise something new instead.")
        return redirect("practice:home")
    return redirect("practice:session", pk=session.pk)


def _session_for(request: HttpRequest, pk: int) -> PracticeSession:
    return get_object_or_404(PracticeSession, pk=pk, learner=_learner(request))


def _question_response(request: HttpRequest, session: PracticeSession, error: str = "") -> HttpResponse:
    current = practice_current(session)
    template = "practice/_question.html" if request.htmx else "practice/session.html"  # type: ignore[attr-defined]
    return render(request, template, {"session": session, "q": current, "error": error})


@login_required
@require_safe
def session_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _question_response(request, _session_for(request, pk))


@login_required
@require_POST
def session_answer(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session_for(request, pk)
    try:
        item_id = request.POST.get("item", "")
        item = Item.objects.filter(pk=int(item_id)).first() if item_id.isdigit() else None
        if item is None:
            raise PracticeError("That question is not part of this session.")
        confidence = int(request.POST["confidence"]) if request.POST.get("confidence") in {"1", "2", "3"} else None
        time_ms = int(request.POST["time_ms"]) if request.POST.get("time_ms", "").isdigit() else None
        practice_answer(
            session=session, item_id=item.pk, raw=response_from_form(item.type, request.POST),
            confidence=confidence, time_ms=time_ms,
        )  # fmt: skip
    except (InvalidResponse, PracticeError, ValueError) as exc:
        response = _question_response(request, session, error=str(exc))
        response.status_code = 422 if request.htmx else 200  # type: ignore[attr-defined]
        return response
    return _question_response(request, session)


@login_required
@require_POST
def session_next(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session_for(request, pk)
    try:
        practice_advance(session=session)
    except PracticeError as exc:
        return _question_response(request, session, error=str(exc))
    if request.htmx:  # type: ignore[attr-defined]
        return _question_response(request, session)
    return redirect("practice:session", pk=session.pk)


@login_required
@require_POST
def item_flag(request: HttpRequest, pk: int) -> HttpResponse:
    # Only items the learner has answered can be flagged: nothing leaks about other items.
    item = get_object_or_404(Item.objects.filter(responses__learner=_learner(request)).distinct(), pk=pk)
    flag = item_flag_set(
        learner=_learner(request), item=item,
        flagged=request.POST.get("flagged") == "1" if "flagged" in request.POST else None,
        note=request.POST.get("note"),
    )  # fmt: skip
    return render(request, "practice/_flag.html", {"flag": flag, "item": item})


@login_required
@require_safe
def readiness(request: HttpRequest) -> HttpResponse:
    learner = _learner(request)
    track = get_object_or_404(Track, code=learner.exam_track)
    return render(
        request, "practice/readiness.html",
        {"track": track, "mastery": mastery_by_domain(learner, track), "due": due_cards_count(learner)},
    )  # fmt: skip

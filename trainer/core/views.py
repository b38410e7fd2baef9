from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from trainer.accounts.models import Role, User
from trainer.bank.models import Track
from trainer.core.middleware import database_unavailable_response, is_database_outage
from trainer.core.permissions import instructor_required
from trainer.core.services.health import platform_health
from trainer.practice.selectors import due_cards_count, mastery_by_domain, next_action, readiness_trend


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage anywhere in the request (middleware included) gets the 503 page."""
    import sys

    from django.views.defaults import server_error as default_server_error

    if is_database_outage(sys.exc_info()[1]):
        return database_unavailable_response(request)
    return default_server_error(request)


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("core:dashboard")
    return render(request, "core/home.html")


@login_required
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    """Each role lands on its own dashboard."""
    assert isinstance(request.user, User)
    if request.user.role in {Role.INSTRUCTOR, Role.ADMIN}:
        return redirect("core:teach")
    track = Track.objects.filter(code=request.user.exam_track).first()
    mastery = mastery_by_domain(request.user, track) if track else []
    due = due_cards_count(request.user)
    context = {
        "track": track,
        "mastery": mastery,
        "due": due,
        "trend": readiness_trend(request.user, track) if track else [],
        "next": next_action(request.user, mastery, due),
    }
    return render(request, "core/dashboard_learner.html", context)


@instructor_required
@require_safe
def teach(request: HttpRequest) -> HttpResponse:
    return render(request, "core/dashboard_instructor.html")


@never_cache
@require_safe
def health(request: HttpRequest) -> JsonResponse:
    report = platform_health()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)

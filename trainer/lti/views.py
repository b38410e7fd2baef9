"""LTI endpoints: JWKS, OIDC login initiation, launch, deep-linking picker, the assignment a launch lands on,
and the roster-sync button. Thin doors onto ``services``; the launch endpoints are CSRF-exempt because the
platform's signed id_token (state cookie + nonce + signature) protects them instead."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from lti_tool.models import LtiRegistration
from pylti1p3.exception import LtiException, OIDCException

from trainer.accounts.models import User
from trainer.courses.models import Assignment, Course, Enrollment
from trainer.courses.selectors import can_teach
from trainer.courses.services import assignment_attempts_used, assignment_due_for
from trainer.exams.models import AttemptStatus, ExamAttempt
from trainer.lti.middleware import EMBED_SESSION_KEY
from trainer.lti.platform import launch_validate, oidc_login_redirect, origin_of
from trainer.lti.selectors import deep_link_assignments, tool_jwks
from trainer.lti.services import (
    LaunchRefused,
    deep_link_response_jwt,
    launch_accept,
    roster_sync_queue,
    tool_key_current,
)

logger = logging.getLogger(__name__)

DEEP_LINK_SESSION_KEY = "lti_deep_link"

# pylti1p3's messages, said so that an LMS user (or the admin they call) knows what to fix.
_REASONS = {
    "Signature verification failed": "the id_token's signature does not match the platform's published keys",
    "Signature has expired": "the id_token has expired (exp is in the past); launch again from the LMS",
    "The token is not yet valid": "the id_token is not valid yet (iat/nbf in the future); check the clocks",
    "Registration not found": "no active registration matches the token's issuer (iss) and audience (aud)",
    "Client id not registered": "the token's audience (aud) is not this tool's client id",
    "Unable to find public key": "the platform's JWKS has no key with the token's kid",
    "State not found": "the login state does not match (cookies blocked, or the launch was replayed)",
    "Missing state param": "the launch has no state parameter",
    "Invalid Nonce": "the nonce was not issued by this tool (or has expired)",
    "Missing id_token": "the launch has no id_token",
    "Unable to find deployment": "the deployment id is not known for this registration",
    "cookie session-id": "the browser did not send the login cookies (third-party cookies blocked?); open "
    "PACS Trainer in a new window from the LMS",
}


def _error(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    response = render(request, "lti/error.html", {"message": message}, status=status)
    response._lti_frame_any = True  # type: ignore[attr-defined]  # no data, no actions: any LMS may frame it
    return response


def _explain(exc: Exception) -> str:
    text = str(exc)
    for needle, reason in _REASONS.items():
        if needle in text:
            return f"The LMS launch was refused: {reason}. ({text})"
    return f"The LMS launch was refused: {text}"


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@require_safe
def jwks(request: HttpRequest) -> JsonResponse:
    """The tool's public keys, for platforms verifying its signed JWTs (deep-link responses, client assertions)."""
    tool_key_current()
    response = JsonResponse(tool_jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response


@csrf_exempt
@xframe_options_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def oidc_login(request: HttpRequest, registration_uuid: Any) -> HttpResponse:
    """Third-party initiated login (GET or POST): redirect to the platform's auth endpoint with state and nonce."""
    if not LtiRegistration.objects.active().filter(uuid=registration_uuid).exists():
        return _error(request, "This LMS registration is unknown or disabled on PACS Trainer.", status=404)
    tool_key_current()
    try:
        return oidc_login_redirect(
            request, registration_uuid=str(registration_uuid),
            launch_url=request.build_absolute_uri(reverse("lti:launch")),
        )  # fmt: skip
    except (OIDCException, LtiException) as exc:
        return _error(request, f"The LMS login request was refused: {exc}.")


@csrf_exempt
@xframe_options_exempt
@never_cache
@require_POST
def launch(request: HttpRequest) -> HttpResponse:
    """The platform's form post with the id_token: validate, provision, sign in, and send the user on."""
    tool_key_current()
    try:
        lti_launch = launch_validate(request)
        result = launch_accept(launch=lti_launch)
    except LaunchRefused as exc:
        return _error(request, str(exc), status=403)
    except (LtiException, OIDCException) as exc:
        logger.info("LTI launch refused: %s", exc)
        return _error(request, _explain(exc))
    login(request, result.user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[EMBED_SESSION_KEY] = result.frame_origins
    if result.notice:
        messages.warning(request, result.notice)
    if result.deep_link is not None:
        request.session[DEEP_LINK_SESSION_KEY] = result.deep_link
        return redirect("lti:deep-link")
    if result.assignment is not None:
        return redirect("lti:assignment", pk=result.assignment.pk)
    return redirect("courses:detail", code=result.course.code)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def deep_link(request: HttpRequest) -> HttpResponse:
    """The instructor picks assignments to place in the LMS; the answer is a signed LtiDeepLinkingResponse
    posted back to the platform."""
    data = request.session.get(DEEP_LINK_SESSION_KEY)
    if not data:
        return _error(request, "No deep-linking request is in progress: start from the LMS's “add content”.")
    course = get_object_or_404(Course, pk=data["course"])
    if not can_teach(_user(request), course):
        raise PermissionDenied("Only the course's instructors can place assignments.")
    settings_claim: dict[str, Any] = data["settings"]
    accept_multiple = settings_claim.get("accept_multiple", True) not in (False, "false")
    assignments = list(deep_link_assignments(course))
    if request.method == "GET":
        return render(
            request, "lti/deep_link.html",
            {"course": course, "assignments": assignments, "multiple": accept_multiple},
        )  # fmt: skip
    chosen_ids = {int(v) for v in request.POST.getlist("assignment") if v.isdigit()}
    chosen = [a for a in assignments if a.pk in chosen_ids]
    if "cancel" not in request.POST and not chosen:
        messages.error(request, "Choose at least one assignment (or cancel).")
        return redirect("lti:deep-link")
    if not accept_multiple:
        chosen = chosen[:1]
    registration = get_object_or_404(LtiRegistration, pk=data["registration"])
    return_url = str(settings_claim.get("deep_link_return_url") or "")
    return_origin = origin_of(return_url)
    if return_origin is None:
        return _error(request, "The LMS gave no valid deep-linking return URL.")
    token = deep_link_response_jwt(
        registration=registration, deployment_id=data["deployment_id"], deep_link_settings=settings_claim,
        assignments=chosen, launch_url=request.build_absolute_uri(reverse("lti:launch")),
    )  # fmt: skip
    del request.session[DEEP_LINK_SESSION_KEY]
    response = render(
        request, "lti/deep_link_return.html",
        {"course": course, "return_url": return_url, "jwt": token, "chosen": chosen},
    )  # fmt: skip
    response._csp_update = {"form-action": [return_origin]}  # type: ignore[attr-defined]
    return response


@login_required
@require_safe
def assignment_landing(request: HttpRequest, pk: int) -> HttpResponse:
    """Where a resource-link launch lands: the assignment with its window and attempts, and a start button."""
    assignment = get_object_or_404(Assignment.objects.select_related("course"), pk=pk)
    user = _user(request)
    teaches = can_teach(user, assignment.course)
    if not teaches and not Enrollment.objects.filter(course=assignment.course, user=user).exists():
        raise Http404("No such assignment.")
    active = ExamAttempt.objects.filter(assignment=assignment, learner=user, status=AttemptStatus.ACTIVE).first()
    return render(
        request, "lti/assignment.html",
        {
            "assignment": assignment, "course": assignment.course, "teaches": teaches, "active": active,
            "due": assignment_due_for(assignment=assignment, user=user),
            "used": assignment_attempts_used(assignment=assignment, user=user),
        },
    )  # fmt: skip


@login_required
@require_POST
def roster_sync(request: HttpRequest, code: str) -> HttpResponse:
    course = get_object_or_404(Course, code=code)
    if not can_teach(_user(request), course):
        raise Http404("No such course.")
    queued = roster_sync_queue(course=course)
    if queued:
        messages.success(request, "Roster sync with the LMS started; reload the page in a moment.")
    else:
        messages.error(request, "This course has no LMS roster to sync (launch it from the LMS first).")
    return redirect("courses:detail", code=course.code)

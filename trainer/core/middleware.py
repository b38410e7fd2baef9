"""A database outage answers 503 with retry advice instead of a traceback.

A dropped PostgreSQL connection is healed by Django's connection health checks on the next request; only when
the database cannot be reached at all does a request fail, and then the learner sees a short page (or, under
``/api/``, a JSON body) that says so and when to try again, with a ``Retry-After`` header."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from trainer.core.context_processors import PLATFORM_NAME

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5
DATABASE_ERRORS = (OperationalError, InterfaceError)


def is_database_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, DATABASE_ERRORS)


def _bare_answer(request: HttpRequest, status: int, template: str, message: str, **extra: object) -> HttpResponse:
    """JSON under /api/, else a page of ``core/_bare.html``: rendered without a request or context processors,
    which could need the database (or the body) this answer is about."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, **extra}, status=status)
    context = {"message": message, **extra, "PLATFORM_NAME": PLATFORM_NAME}
    return HttpResponse(render_to_string(template, context), status=status)


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """The 503 answer, with when to try again."""
    message = "The platform cannot reach its database right now. Nothing you saved is lost; try again shortly."
    response = _bare_answer(request, 503, "core/unavailable.html", message, retry_after=RETRY_AFTER_SECONDS)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def human_size(size: int) -> str:
    if size >= 1048576:
        return f"{size / 1048576:.1f} MiB".replace(".0 MiB", " MiB")
    if size >= 1024:
        return f"{size / 1024:.1f} KiB".replace(".0 KiB", " KiB")
    return f"{size} bytes"


def too_large_message(size: int, limit: int, what: str = "The upload") -> str:
    """The words every size limit uses: how big it was, what the limit is."""
    return f"{what} is {human_size(size)}; the limit is {human_size(limit)}."


class RequestSizeLimitMiddleware:
    """Refuses a request whose body is larger than UPLOAD_MAX_BYTES with 413 and a clear message, before any of
    it is read (Django itself only caps the non-file part of a body)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            size = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = 0
        limit = int(settings.UPLOAD_MAX_BYTES)
        if size <= limit:
            return self.get_response(request)
        message = too_large_message(size, limit, "This request")
        return _bare_answer(request, 413, "core/too_large.html", message)


class DatabaseUnavailableMiddleware:
    """Turns a database outage raised by a view (or its template) into the 503 answer, in DEBUG too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_outage(exception):
            return None
        logger.error("database unavailable while serving %s: %s", request.path, exception)
        return database_unavailable_response(request)

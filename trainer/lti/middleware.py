"""What a session started by an LTI launch needs to work inside the LMS's iframe, and nothing for any other
session (see docs/ARCHITECTURE.md, "LTI 1.3 tool"):

- ``LtiFrameMiddleware`` lets the launching platform's origins (and only them) frame the pages of that session:
  CSP ``frame-ancestors`` lists them and X-Frame-Options is left off. Every other response keeps
  ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``.
- ``LtiCookieMiddleware`` marks the session, CSRF and messages cookies ``SameSite=None; Secure`` when that
  session sets them over HTTPS, so the browser sends them from inside the cross-site iframe. Other sessions
  keep the default ``SameSite=Lax``. CSRF protection is unchanged (token and Origin checks).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

EMBED_SESSION_KEY = "lti_embed_origins"
MESSAGES_COOKIE = "messages"


def embed_origins(request: HttpRequest) -> list[str]:
    session = getattr(request, "session", None)
    if session is None or (not session.session_key and settings.SESSION_COOKIE_NAME not in request.COOKIES):
        return []  # no session yet: do not load (and so Vary on) a session just to learn it is not an LTI one
    origins = session.get(EMBED_SESSION_KEY) or []
    return [o for o in origins if isinstance(o, str)]


class LtiFrameMiddleware:
    """Sits after ``CSPMiddleware`` and ``XFrameOptionsMiddleware`` so that its response phase runs first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        origins = ["*"] if getattr(response, "_lti_frame_any", False) else embed_origins(request)
        if origins:
            replace = dict(getattr(response, "_csp_replace", None) or {})
            replace["frame-ancestors"] = origins
            response._csp_replace = replace  # type: ignore[attr-defined]
            response.xframe_options_exempt = True  # type: ignore[attr-defined]
        return response


class LtiCookieMiddleware:
    """Sits before ``SessionMiddleware`` so that its response phase runs after sessions and CSRF set cookies."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        names = (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, MESSAGES_COOKIE)
        present = [n for n in names if n in response.cookies and response.cookies[n].value]
        if present and request.is_secure() and embed_origins(request):
            for name in present:
                response.cookies[name]["samesite"] = "None"
                response.cookies[name]["secure"] = True
        return response

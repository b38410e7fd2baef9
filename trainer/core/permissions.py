"""Role checks shared by views and API views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from trainer.accounts.models import User

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponse])


def is_instructor(user: Any) -> bool:
    return isinstance(user, User) and user.is_authenticated and user.is_instructor


def instructor_required(view: ViewFunc) -> ViewFunc:
    """Signed-in instructors and admins only; anyone else signed in gets 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_instructor(request.user):
            raise PermissionDenied("This page is for instructors.")
        return view(request, *args, **kwargs)

    return login_required(wrapped)  # type: ignore[return-value]


class IsInstructor(BasePermission):
    message = "This endpoint is for instructors."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return is_instructor(request.user)

"""Platform registration in the Django admin: django-lti's registration (issuer, client id, audience, auth
login URL, access-token URL, platform JWKS URL) with its deployments and the tool's options, plus the tool's
keys, identities and score passbacks."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from lti_tool.admin import LtiDeploymentInline
from lti_tool.admin import LtiRegistrationAdmin as BaseRegistrationAdmin
from lti_tool.models import Key, LtiRegistration

from trainer.lti.models import CourseContext, LtiIdentity, PassbackStatus, PlatformOptions, ScorePassback
from trainer.lti.services import passback_retry

HTTPS_URLS: dict[Any, dict[str, Any]] = {models.URLField: {"assume_scheme": "https"}}


class DeploymentInline(LtiDeploymentInline):  # type: ignore[misc]
    """Deployment ids the platform uses; a launch from one is accepted only once it is active here."""

    formfield_overrides = HTTPS_URLS


class PlatformOptionsInline(admin.StackedInline):  # type: ignore[type-arg]
    model = PlatformOptions
    can_delete = False
    extra = 1
    max_num = 1


admin.site.unregister(LtiRegistration)


@admin.register(LtiRegistration)
class RegistrationAdmin(BaseRegistrationAdmin):  # type: ignore[misc]
    """Register a platform: fill in what the LMS shows for the tool, list its deployment ids (activate each),
    and give the LMS the tool URLs shown below."""

    inlines = [DeploymentInline, PlatformOptionsInline]
    formfield_overrides = HTTPS_URLS
    readonly_fields = ("tool_urls",)
    fieldsets = [*BaseRegistrationAdmin.fieldsets, ("For the LMS", {"fields": ["tool_urls"]})]

    @admin.display(description="Tool URLs to enter in the LMS")
    def tool_urls(self, obj: LtiRegistration) -> str:
        if obj.pk is None:
            return "Save the registration first."
        return format_html(
            "OIDC login (initiation) URL: <code>{}</code><br>Launch / redirect URL: <code>{}</code><br>"
            "Public JWK set URL: <code>{}</code>",
            reverse("lti:login", args=[obj.uuid]), reverse("lti:launch"), reverse("lti:jwks"),
        )  # fmt: skip


admin.site.register(Key)


@admin.register(LtiIdentity)
class LtiIdentityAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "issuer", "sub", "created", "last_launch")
    search_fields = ("user__username", "sub", "issuer")
    readonly_fields = ("created", "last_launch")
    raw_id_fields = ("user",)


@admin.register(CourseContext)
class CourseContextAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("course", "context", "last_roster_sync")
    raw_id_fields = ("course", "context")


@admin.action(description="Send again")
def send_again(modeladmin: Any, request: HttpRequest, queryset: QuerySet[ScorePassback]) -> None:
    count = 0
    for passback in queryset.exclude(status=PassbackStatus.ACCEPTED):
        passback_retry(passback=passback)
        count += 1
    messages.success(request, f"{count} passback(s) queued again.")


@admin.register(ScorePassback)
class ScorePassbackAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("pk", "learner", "assignment", "status", "tries", "score_given", "score_maximum", "sent_at")
    list_filter = ("status",)
    readonly_fields = (
        "line_item", "learner", "assignment", "attempt", "override", "status", "tries", "last_error",
        "score_given", "score_maximum", "sent_at", "created", "updated",
    )  # fmt: skip
    actions = [send_again]

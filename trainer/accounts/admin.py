from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from trainer.accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):  # type: ignore[type-arg]
    list_display = ("username", "email", "role", "exam_track", "is_active", "last_login")
    list_filter = ("role", "exam_track", "is_active", "is_staff")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Platform", {"fields": ("role", "exam_track", "display_name")}),
    )

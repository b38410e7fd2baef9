"""Demo content for the quick start: demo accounts (credentials in README.md) and whatever each app adds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils.module_loading import import_string

from trainer.accounts.models import ExamTrack, Role, User


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: Role
    display_name: str


DEMO_ACCOUNTS = (
    DemoAccount("learner", "learn-dicom-2026", Role.LEARNER, "Dana Learner"),
    DemoAccount("instructor", "teach-dicom-2026", Role.INSTRUCTOR, "Ira Instructor"),
    DemoAccount("admin", "admin-dicom-2026", Role.ADMIN, "Ada Admin"),
)

# Each app that has demo content appends the dotted path of a callable taking no arguments and returning a
# one-line summary. Order matters: content before what uses it.
DEMO_STEPS: list[str] = [
    "trainer.bank.services.bank_load_bundled",
    "trainer.courses.demo.demo_course_load",
]


def demo_accounts_ensure() -> list[User]:
    users = []
    for account in DEMO_ACCOUNTS:
        user, _ = User.objects.get_or_create(username=account.username)
        user.role = account.role
        user.display_name = account.display_name
        user.email = f"{account.username}@demo.invalid"
        user.exam_track = ExamTrack.CIIP
        user.is_staff = user.is_superuser = account.role == Role.ADMIN
        user.set_password(account.password)
        user.save()
        users.append(user)
    return users


def demo_content_load() -> list[str]:
    """Create or refresh the demo accounts and every app's demo content. Refused in production mode."""
    if settings.PRODUCTION:
        raise ImproperlyConfigured("Demo content is never created in production mode.")
    with transaction.atomic():
        return _demo_content_steps()


def _demo_content_steps() -> list[str]:
    report = [f"demo accounts: {', '.join(u.username for u in demo_accounts_ensure())}"]
    for path in DEMO_STEPS:
        step: Callable[[], str] = import_string(path)
        report.append(step())
    return report

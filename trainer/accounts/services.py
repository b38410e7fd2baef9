"""Writes for accounts: sign-up, profile, roles."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from trainer.accounts.models import ExamTrack, Role, User


@transaction.atomic
def user_sign_up(*, username: str, email: str, password: str, exam_track: str = ExamTrack.CIIP) -> User:
    """Create a learner account. Every self-service sign-up is a learner; roles are raised by an admin."""
    user = User(username=username, email=email, exam_track=exam_track, role=Role.LEARNER)
    validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


def user_update_profile(*, user: User, display_name: str, email: str, exam_track: str) -> User:
    user.display_name = display_name
    user.email = email
    user.exam_track = exam_track
    user.full_clean(exclude=["password"])
    user.save(update_fields=["display_name", "email", "exam_track"])
    return user


def user_set_role(*, user: User, role: str) -> User:
    """Set the platform role; administrators also get the Django admin."""
    user.role = Role(role)
    user.is_staff = user.role == Role.ADMIN or user.is_superuser
    user.save(update_fields=["role", "is_staff"])
    return user

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    LEARNER = "learner", "Learner"
    INSTRUCTOR = "instructor", "Instructor"
    ADMIN = "admin", "Administrator"


class ExamTrack(models.TextChoices):
    """The exams a learner prepares for (codes match fixtures/tracks.yaml)."""

    CIIP = "CIIP", "CIIP (ABII)"
    CPAS_T = "CPAS-T", "CPAS Technical (PARCA)"
    CPAS_C = "CPAS-C", "CPAS Clinical (PARCA)"
    CDIP = "CDIP", "CDIP (PARCA)"
    CPSA = "CPSA", "CPSA (PARCA)"


class User(AbstractUser):
    """A person on the platform. The platform-wide role decides which dashboards and tools they see;
    course roles (instructor, assistant, learner in one course) live with the course."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.LEARNER)
    exam_track = models.CharField(max_length=8, choices=ExamTrack.choices, default=ExamTrack.CIIP)
    display_name = models.CharField(max_length=120, blank=True)

    @property
    def is_instructor(self) -> bool:
        return self.role in {Role.INSTRUCTOR, Role.ADMIN}

    @property
    def is_platform_admin(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

    @property
    def shown_name(self) -> str:
        return self.display_name or self.get_full_name() or self.username

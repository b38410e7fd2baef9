"""The tool's own LTI tables, beside django-lti's (``lti_tool``: registrations, deployments, keys, contexts,
resource links, line items). These tie LMS objects to the platform's users, courses and assignments."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from trainer.bank.models import Track
from trainer.courses.models import Assignment, Course, GradeOverride
from trainer.exams.models import ExamAttempt


class PlatformOptions(models.Model):
    """What the tool needs to know about a registered platform beyond what django-lti stores."""

    registration = models.OneToOneField(
        "lti_tool.LtiRegistration", on_delete=models.CASCADE, related_name="trainer_options"
    )
    default_track = models.ForeignKey(
        Track, null=True, blank=True, on_delete=models.SET_NULL,
        help_text="Track of the courses created for this platform's contexts (empty: LTI_DEFAULT_TRACK).",
    )  # fmt: skip
    frame_origins = models.TextField(
        blank=True,
        help_text="Extra origins (one per line, e.g. https://school.instructure.com) allowed to frame the tool "
        "after a launch; the issuer's, the login URL's and the launch's return URL's origins are always allowed.",
    )

    class Meta:
        verbose_name = "platform options"
        verbose_name_plural = "platform options"

    def __str__(self) -> str:
        return f"options of {self.registration_id}"


class LtiIdentity(models.Model):
    """A person as a platform knows them: ``sub`` is unique per issuer (LTI 1.3 core §5.3.6). Users are found
    through this table only — never by e-mail address."""

    issuer = models.CharField(max_length=255)
    sub = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lti_identities")
    registration = models.ForeignKey(
        "lti_tool.LtiRegistration", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    last_launch = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "LTI identities"
        constraints = [models.UniqueConstraint(fields=("issuer", "sub"), name="lti_identity_unique_sub_per_issuer")]
        indexes = [models.Index(fields=("user", "issuer"))]

    def __str__(self) -> str:
        return f"{self.sub} @ {self.issuer}"


class CourseContext(models.Model):
    """The platform course a tool course belongs to (one LMS context → one course)."""

    context = models.OneToOneField("lti_tool.LtiContext", on_delete=models.CASCADE, related_name="trainer_course")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lti_contexts")
    last_roster_sync = models.DateTimeField(null=True, blank=True)
    last_roster_report: models.JSONField[dict[str, object]] = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.context_id} → {self.course_id}"


class ResourceLinkAssignment(models.Model):
    """An LMS resource link placed (by deep linking) on an assignment, and the line item its scores go to."""

    resource_link = models.OneToOneField(
        "lti_tool.LtiResourceLink", on_delete=models.CASCADE, related_name="trainer_assignment"
    )
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="lti_links")
    line_item = models.ForeignKey(
        "lti_tool.LtiLineItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.resource_link_id} → {self.assignment_id}"


class LaunchNonce(models.Model):
    """Nonces of accepted launches: a replayed id_token is refused (pylti1p3 checks that the nonce was issued,
    not that it is used once)."""

    issuer = models.CharField(max_length=255)
    nonce = models.CharField(max_length=255)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=("issuer", "nonce"), name="lti_nonce_used_once")]

    def __str__(self) -> str:
        return self.nonce


class PassbackStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    RETRYING = "retrying", "Platform unavailable; retrying"
    ACCEPTED = "accepted", "Accepted by the platform"
    FAILED = "failed", "Failed"


class ScorePassback(models.Model):
    """One score to send to one line item: for a submitted exam attempt, a graded lab run or a saved grade
    override. The score sent is the learner's current grade for the assignment at sending time (so a late retry
    never sends a stale score)."""

    line_item = models.ForeignKey("lti_tool.LtiLineItem", on_delete=models.CASCADE, related_name="+")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="lti_passbacks")
    attempt = models.ForeignKey(ExamAttempt, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    override = models.ForeignKey(GradeOverride, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    lab_run = models.ForeignKey(
        "grading.GradingRun", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="A lab assignment's graded run (the lab score sent is the learner's best at sending time).",
    )  # fmt: skip
    status = models.CharField(max_length=16, choices=PassbackStatus.choices, default=PassbackStatus.PENDING)
    tries = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    score_given = models.FloatField(null=True, blank=True)
    score_maximum = models.FloatField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created",)
        constraints = [
            models.UniqueConstraint(
                fields=("line_item", "attempt"), condition=models.Q(attempt__isnull=False),
                name="lti_passback_once_per_attempt",
            ),
            models.UniqueConstraint(
                fields=("line_item", "override"), condition=models.Q(override__isnull=False),
                name="lti_passback_once_per_override",
            ),
            models.UniqueConstraint(
                fields=("line_item", "lab_run"), condition=models.Q(lab_run__isnull=False),
                name="lti_passback_once_per_lab_run",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"passback {self.pk} ({self.status})"

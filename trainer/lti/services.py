"""Writes for the LTI tool: accepting a validated launch (provisioning, course, enrolment, resource link),
deep-link responses, score passback, roster sync, tool key rotation. Views, tasks and commands call these."""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from lti_tool.models import Key, LtiContext, LtiLaunch, LtiLineItem, LtiMembership, LtiRegistration, LtiUser
from lti_tool.utils import sync_data_from_launch
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem

from labs.grading.models import GradingRun, RunStatus
from trainer.accounts.models import Role, User
from trainer.bank.models import Track
from trainer.courses.models import Assignment, AssignmentKind, Course, CourseRole, Enrollment, GradeOverride
from trainer.courses.services import course_enroll
from trainer.exams.models import AttemptStatus, ExamAttempt
from trainer.lti.models import (
    CourseContext,
    LaunchNonce,
    LtiIdentity,
    PassbackStatus,
    PlatformOptions,
    ResourceLinkAssignment,
    ScorePassback,
)
from trainer.lti.platform import (
    AGS_LINEITEM,
    AGS_LINEITEM_READONLY,
    AGS_RESULT_READONLY,
    AGS_SCORE,
    CONTEXT,
    CUSTOM,
    DEEP_LINKING_SETTINGS,
    LAUNCH_PRESENTATION,
    NRPS_MEDIA_TYPE,
    NRPS_SCOPE,
    ROLES,
    TOOL_PLATFORM,
    origin_of,
    service_connector,
)
from trainer.lti.selectors import learner_grade_percent

logger = logging.getLogger(__name__)

CUSTOM_ASSIGNMENT = "pacs_trainer_assignment"
NONCE_KEEP = timedelta(days=2)  # longer than any id_token lives


class LaunchRefused(Exception):
    """A launch that validated but cannot be accepted; the message is shown to the user."""


class LtiError(Exception):
    """An LTI operation the instructor asked for cannot be done; the message says why."""


# ----------------------------------------------------------------------------------------------- roles


_ROLE_PREFIX = "http://purl.imsglobal.org/vocab/lis/v2/membership"


def course_role_from_lti(roles: Iterable[str]) -> str:
    """LTI context roles → course role: TeachingAssistant → assistant; Instructor, Administrator,
    ContentDeveloper → instructor; anything else (Learner, Mentor, none) → learner. The highest wins."""
    found: set[str] = set()
    for raw in roles:
        role = raw.strip()
        if role.startswith(_ROLE_PREFIX):
            role = role[len(_ROLE_PREFIX) :].lstrip("#/")
        elif "/" in role or "#" in role:  # institution or system roles say nothing about this course
            continue
        if role.endswith("#TeachingAssistant") or role == "TeachingAssistant":
            found.add(CourseRole.ASSISTANT)
        elif role.split("#")[0] in ("Instructor", "Administrator", "ContentDeveloper"):
            found.add(CourseRole.INSTRUCTOR)
    for role in (CourseRole.INSTRUCTOR, CourseRole.ASSISTANT):
        if role in found:
            return role
    return CourseRole.LEARNER


# ----------------------------------------------------------------------------------------------- identities


def _username_for(issuer: str, sub: str) -> str:
    digest = hashlib.sha256(f"{issuer}\n{sub}".encode()).hexdigest()
    base = f"lti-{digest[:12]}"
    candidate, n = base, 1
    while User.objects.filter(username=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def identity_provision(
    *, registration: LtiRegistration, sub: str, name: str = "", given_name: str = "", family_name: str = "",
    email: str = "", platform_role: str = Role.LEARNER,
) -> User:  # fmt: skip
    """The user behind ``sub`` at the registration's issuer: found through ``LtiIdentity`` or created (with an
    unusable password; they sign in through the LMS). An e-mail address is stored, never used to match."""
    identity = LtiIdentity.objects.select_related("user").filter(issuer=registration.issuer, sub=sub).first()
    if identity is not None:
        user = identity.user
        changed = []
        if name and user.display_name != name[:120]:
            user.display_name = name[:120]
            changed.append("display_name")
        if changed:
            user.save(update_fields=changed)
        return user
    user = User(
        username=_username_for(registration.issuer, sub), email=email[:254], first_name=given_name[:150],
        last_name=family_name[:150], display_name=name[:120], role=platform_role,
    )  # fmt: skip
    user.set_unusable_password()
    user.save()
    try:
        with transaction.atomic():
            LtiIdentity.objects.create(issuer=registration.issuer, sub=sub, user=user, registration=registration)
    except IntegrityError:  # a concurrent launch of the same person won: use theirs
        user.delete()
        return LtiIdentity.objects.select_related("user").get(issuer=registration.issuer, sub=sub).user
    return user


# ----------------------------------------------------------------------------------------------- courses


def _track_for(registration: LtiRegistration, custom: Mapping[str, Any]) -> Track:
    code = str(custom.get("pacs_trainer_track") or "")
    options = PlatformOptions.objects.filter(registration=registration).select_related("default_track").first()
    track = (
        (Track.objects.filter(code=code).first() if code else None)
        or (options.default_track if options else None)
        or Track.objects.filter(code=settings.LTI_DEFAULT_TRACK).first()
        or Track.objects.order_by("pk").first()
    )
    if track is None:
        raise LaunchRefused("The platform has no exam tracks yet: an administrator must load them first.")
    return track


def course_for_context(
    *, context: LtiContext, registration: LtiRegistration, custom: Mapping[str, Any], creator: User | None
) -> Course:
    """The course linked to the LMS context, created on its first launch."""
    link = CourseContext.objects.select_related("course").filter(context=context).first()
    if link is not None:
        return link.course
    digest = hashlib.sha256(
        f"{registration.issuer}\n{context.deployment.deployment_id}\n{context.id_on_platform}".encode()
    ).hexdigest()
    label = slugify(context.label or context.title or "lms")[:20].strip("-") or "lms"
    course = Course(
        title=(context.title or context.label or "LMS course")[:200], code=f"{label}-{digest[:12]}",
        track=_track_for(registration, custom), created_by=creator,
        description="Created for an LMS course (LTI).",
    )  # fmt: skip
    course.full_clean(exclude=["created_by"])
    course.save()
    CourseContext.objects.create(context=context, course=course)
    return course


def enrollment_sync(*, course: Course, user: User, role: str) -> Enrollment:
    """Enrol with the platform's role. The platform is authoritative for enrolments it made (source ``lti``);
    an enrolment made on the tool (manual, invite, CSV) keeps its role."""
    enrollment = course_enroll(course=course, user=user, role=role, source=Enrollment.Source.LTI)
    if enrollment.source == Enrollment.Source.LTI and enrollment.role != role:
        enrollment.role = role
        enrollment.save(update_fields=["role"])
    return enrollment


# ----------------------------------------------------------------------------------------------- launches


@dataclass
class LaunchResult:
    user: User
    course: Course
    role: str
    assignment: Assignment | None = None
    deep_link: dict[str, Any] | None = None
    frame_origins: list[str] = field(default_factory=list)
    notice: str = ""


def launch_nonce_consume(*, issuer: str, nonce: str) -> None:
    """Refuse an id_token seen before (replay), and forget nonces older than any token's lifetime."""
    LaunchNonce.objects.filter(created__lt=timezone.now() - NONCE_KEEP).delete()
    try:
        with transaction.atomic():
            LaunchNonce.objects.create(issuer=issuer, nonce=nonce)
    except IntegrityError as exc:
        raise LaunchRefused("This launch was already used (replayed id_token). Launch again from the LMS.") from exc


def _check_audience(claims: Mapping[str, Any], client_id: str) -> None:
    aud = claims.get("aud")
    auds = aud if isinstance(aud, list) else [aud]
    if client_id not in auds:
        raise LaunchRefused("The id_token was not issued to this tool (aud does not name its client id).")
    if len(auds) > 1 and claims.get("azp") != client_id:
        raise LaunchRefused("The id_token has several audiences but no azp naming this tool.")
    if "iat" not in claims:
        raise LaunchRefused("The id_token has no iat (issued-at) claim.")


def _frame_origins(registration: LtiRegistration, claims: Mapping[str, Any]) -> list[str]:
    presentation = claims.get(LAUNCH_PRESENTATION) or {}
    platform = claims.get(TOOL_PLATFORM) or {}
    candidates = [registration.issuer, registration.auth_url, presentation.get("return_url"), platform.get("url")]
    options = PlatformOptions.objects.filter(registration=registration).first()
    if options:
        candidates += options.frame_origins.split()
    origins: list[str] = []
    for candidate in candidates:
        origin = origin_of(candidate if isinstance(candidate, str) else None)
        if origin and origin not in origins:
            origins.append(origin)
    return origins


def resource_link_bind(
    *, launch: LtiLaunch, course: Course, custom: Mapping[str, Any]
) -> tuple[Assignment | None, str]:
    """The assignment a resource link opens: bound on first launch from the custom parameter deep linking put
    on the link (refused if it names an assignment of another course), and the AGS line item the platform
    gives for the link, so that scores can be sent back."""
    resource_link = launch.resource_link
    binding = ResourceLinkAssignment.objects.select_related("assignment").filter(resource_link=resource_link).first()
    notice = ""
    if binding is None:
        raw = str(custom.get(CUSTOM_ASSIGNMENT) or "").strip()
        if not raw:
            return None, ""
        assignment = Assignment.objects.filter(pk=int(raw) if raw.isdigit() else 0, course=course).first()
        if assignment is None:
            return None, "This link points to an assignment that is not part of this course; showing the course."
        binding = ResourceLinkAssignment.objects.create(resource_link=resource_link, assignment=assignment)
    ags = launch.ags_claim or {}
    lineitem_url = ags.get("lineitem")
    if lineitem_url and (binding.line_item is None or binding.line_item.url != lineitem_url):
        line_item, _ = LtiLineItem.objects.update_or_create(
            url=lineitem_url,
            defaults={
                "context": launch.context, "label": binding.assignment.title[:255],
                "maximum_score": float(binding.assignment.points), "resource_link": resource_link,
                "resource_id": f"assignment-{binding.assignment_id}",
            },
        )  # fmt: skip
        binding.line_item = line_item
        binding.save(update_fields=["line_item"])
    return binding.assignment, notice


@transaction.atomic
def launch_accept(*, launch: LtiLaunch) -> LaunchResult:
    """Everything a validated launch does on the tool: refuse replays and inactive deployments, record the
    platform's view (django-lti tables), provision the user by (issuer, sub), link or create the course for the
    context, enrol with the mapped role, and find the assignment of the resource link."""
    claims: Mapping[str, Any] = launch.get_launch_data()
    registration: LtiRegistration = launch.registration
    _check_audience(claims, registration.client_id)
    if not launch.deployment.is_active:
        raise LaunchRefused(
            "This LMS deployment is not activated on PACS Trainer yet: ask an administrator to activate "
            f"deployment {launch.deployment.deployment_id!r} of {registration.name}."
        )
    if not (launch.is_resource_launch or launch.is_deep_link_launch):
        raise LaunchRefused("PACS Trainer handles resource-link and deep-linking launches only.")
    if not claims.get(CONTEXT, {}).get("id"):
        raise LaunchRefused("The launch has no course context: place PACS Trainer inside an LMS course.")
    launch_nonce_consume(issuer=registration.issuer, nonce=str(claims["nonce"]))
    sync_data_from_launch(launch)
    role = course_role_from_lti(claims.get(ROLES) or [])
    user = identity_provision(
        registration=registration, sub=str(claims["sub"]), name=str(claims.get("name") or ""),
        given_name=str(claims.get("given_name") or ""), family_name=str(claims.get("family_name") or ""),
        email=str(claims.get("email") or ""),
        platform_role=Role.INSTRUCTOR if role == CourseRole.INSTRUCTOR else Role.LEARNER,
    )  # fmt: skip
    LtiIdentity.objects.filter(issuer=registration.issuer, sub=str(claims["sub"])).update(last_launch=timezone.now())
    LtiUser.objects.filter(pk=launch.user.pk).update(auth_user=user)
    custom: Mapping[str, Any] = claims.get(CUSTOM) or {}
    course = course_for_context(
        context=launch.context, registration=registration, custom=custom,
        creator=user if role == CourseRole.INSTRUCTOR else None,
    )  # fmt: skip
    enrollment = enrollment_sync(course=course, user=user, role=role)
    result = LaunchResult(
        user=user, course=course, role=enrollment.role, frame_origins=_frame_origins(registration, claims)
    )
    if launch.is_deep_link_launch:
        if enrollment.role not in (CourseRole.INSTRUCTOR, CourseRole.ASSISTANT):
            raise LaunchRefused("Only the course's instructors can place PACS Trainer assignments.")
        result.deep_link = {
            "registration": registration.pk,
            "deployment_id": launch.deployment.deployment_id,
            "settings": dict(claims.get(DEEP_LINKING_SETTINGS) or {}),
            "course": course.pk,
        }
        return result
    result.assignment, result.notice = resource_link_bind(launch=launch, course=course, custom=custom)
    return result


# ----------------------------------------------------------------------------------------------- deep linking


def deep_link_response_jwt(
    *, registration: LtiRegistration, deployment_id: str, deep_link_settings: dict[str, Any],
    assignments: list[Assignment], launch_url: str,
) -> str:  # fmt: skip
    """A signed LtiDeepLinkingResponse: one ltiResourceLink per assignment, its id in a custom parameter, and a
    line item for graded kinds so that the platform makes a gradebook column."""
    resources = []
    for a in assignments:
        resource = (
            DeepLinkResource().set_url(launch_url).set_title(a.title).set_custom_params({CUSTOM_ASSIGNMENT: str(a.pk)})
        )
        if a.kind in (AssignmentKind.EXAM, AssignmentKind.PRACTICE, AssignmentKind.LAB):
            resource.set_lineitem(
                LineItem().set_score_maximum(float(a.points)).set_label(a.title).set_resource_id(f"assignment-{a.pk}")
            )
        resources.append(resource)
    deep_link = DeepLink(registration.to_registration(), deployment_id, deep_link_settings)  # type: ignore[arg-type]
    return str(deep_link.get_response_jwt(resources))


# ----------------------------------------------------------------------------------------------- passback


class PassbackTransientError(Exception):
    """The platform did not take the score this time (429, 5xx, no connection): try again later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _line_item_targets(assignment: Assignment, learner: User) -> list[LtiLineItem]:
    """Line items of the assignment's resource links in whose context the learner is a platform member."""
    items: dict[int, LtiLineItem] = {}
    for binding in ResourceLinkAssignment.objects.filter(assignment=assignment, line_item__isnull=False).select_related(
        "line_item"
    ):
        line_item = binding.line_item
        assert line_item is not None
        if LtiMembership.objects.filter(context_id=line_item.context_id, user__auth_user=learner).exists():
            items[line_item.pk] = line_item
    return list(items.values())


def _enqueue(passback_ids: list[int]) -> None:
    from trainer.lti.tasks import score_passback

    for pk in passback_ids:
        transaction.on_commit(lambda pk=pk: score_passback.delay(pk))  # type: ignore[misc]


def passback_queue(
    *, assignment: Assignment, learner: User, attempt: ExamAttempt | None = None, override: GradeOverride | None = None,
    lab_run: GradingRun | None = None,
) -> list[int]:  # fmt: skip
    """One passback row per line item for this attempt, lab run or override (idempotent), sent after commit."""
    ids = []
    for line_item in _line_item_targets(assignment, learner):
        passback, created = ScorePassback.objects.get_or_create(
            line_item=line_item, attempt=attempt, override=override, lab_run=lab_run,
            defaults={"learner": learner, "assignment": assignment},
        )  # fmt: skip
        if created:
            ids.append(passback.pk)
    _enqueue(ids)
    return ids


def passback_queue_for_attempt(*, attempt: ExamAttempt) -> list[int]:
    if attempt.assignment_id is None or attempt.status == AttemptStatus.ACTIVE:
        return []
    assert attempt.assignment is not None
    return passback_queue(assignment=attempt.assignment, learner=attempt.learner, attempt=attempt)


def passback_queue_for_override(*, override: GradeOverride) -> list[int]:
    return passback_queue(assignment=override.assignment, learner=override.learner, override=override)


def passback_retry(*, passback: ScorePassback) -> None:
    """Send a failed passback again (from the admin)."""
    ScorePassback.objects.filter(pk=passback.pk).update(status=PassbackStatus.PENDING, last_error="")
    _enqueue([passback.pk])


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
    except (TypeError, ValueError):
        return None


def passback_send(*, passback_id: int) -> str:
    """Post the learner's current grade for the assignment to the line item (AGS score service). Returns the
    row's status; raises ``PassbackTransientError`` when the platform should be asked again later."""
    passback = ScorePassback.objects.select_related(
        "line_item__context__deployment__registration", "assignment", "learner"
    ).get(pk=passback_id)
    if passback.status in (PassbackStatus.ACCEPTED, PassbackStatus.FAILED):
        return passback.status
    line_item = passback.line_item
    context = line_item.context
    registration = context.deployment.registration
    member = (
        LtiMembership.objects.select_related("user")
        .filter(context=context, user__auth_user=passback.learner)
        .order_by("-datetime_modified")
        .first()
    )
    if member is None:
        return passback_fail(passback_id=passback.pk, error="The learner is not a member of the LMS course.")
    if not context.can_publish_scores:
        return passback_fail(passback_id=passback.pk, error="The platform did not grant the AGS score scope.")
    percent = learner_grade_percent(assignment=passback.assignment, learner=passback.learner)
    maximum = float(line_item.maximum_score or passback.assignment.points or 100)
    grade = Grade().set_score_maximum(maximum).set_user_id(member.user.sub)
    grade.set_timestamp(timezone.now().isoformat(timespec="milliseconds"))
    if percent is None:
        grade.set_activity_progress("Initialized").set_grading_progress("NotReady")
    else:
        grade.set_score_given(round(maximum * percent / 100, 4))
        grade.set_activity_progress("Completed").set_grading_progress("FullyGraded")
    scopes = [AGS_SCORE]
    if context.can_manage_lineitems:
        scopes.append(AGS_LINEITEM)
    if context.can_query_lineitems:
        scopes.append(AGS_LINEITEM_READONLY)
    if context.can_access_results:
        scopes.append(AGS_RESULT_READONLY)
    service_data: Any = {"scope": scopes, "lineitem": line_item.url}
    ags = AssignmentsGradesService(service_connector(registration), service_data)
    ScorePassback.objects.filter(pk=passback.pk).update(tries=F("tries") + 1)
    try:
        ags.put_grade(grade)
    except LtiServiceException as exc:
        status = exc.response.status_code
        error = f"HTTP {status} from {exc.response.url}: {exc.response.text[:300]}"
        if status in (408, 429) or status >= 500:
            _mark(passback.pk, PassbackStatus.RETRYING, error)
            raise PassbackTransientError(error, _retry_after(exc.response)) from exc
        return passback_fail(passback_id=passback.pk, error=error)
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
        _mark(passback.pk, PassbackStatus.RETRYING, error)
        raise PassbackTransientError(error) from exc
    except LtiException as exc:
        return passback_fail(passback_id=passback.pk, error=str(exc))
    ScorePassback.objects.filter(pk=passback.pk).update(
        status=PassbackStatus.ACCEPTED, last_error="", sent_at=timezone.now(),
        score_given=grade.get_score_given(), score_maximum=maximum,
    )  # fmt: skip
    return PassbackStatus.ACCEPTED


def _mark(pk: int, status: str, error: str) -> None:
    ScorePassback.objects.filter(pk=pk).exclude(status=PassbackStatus.ACCEPTED).update(status=status, last_error=error)


def passback_fail(*, passback_id: int, error: str) -> str:
    logger.warning("LTI score passback %s failed: %s", passback_id, error)
    _mark(passback_id, PassbackStatus.FAILED, error)
    return PassbackStatus.FAILED


def passback_backoff(*, retries: int, retry_after: float | None = None) -> float:
    """Seconds before the next try: exponential from LTI_PASSBACK_RETRY_BASE_SECONDS, capped, never sooner than
    the platform's Retry-After."""
    delay = settings.LTI_PASSBACK_RETRY_BASE_SECONDS * (2**retries)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return float(min(delay, settings.LTI_PASSBACK_RETRY_MAX_SECONDS))


# ----------------------------------------------------------------------------------------------- roster (NRPS)


@dataclass
class RosterSyncReport:
    members: int = 0
    pages: int = 0
    created: list[str] = field(default_factory=list)
    enrolled: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    inactive: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "members": self.members, "pages": self.pages, "created": self.created, "enrolled": self.enrolled,
            "updated": self.updated, "inactive": self.inactive,
        }  # fmt: skip


MAX_ROSTER_PAGES = 200


def _next_page(link_header: str | None) -> str | None:
    """The rel="next" URL of a Link header, exactly as given (pylti1p3's parser lower-cases it)."""
    if not link_header:
        return None
    for link in requests.utils.parse_header_links(link_header):
        if "next" in str(link.get("rel", "")).split():
            return link.get("url") or None
    return None


def roster_fetch(*, context: LtiContext) -> tuple[list[dict[str, Any]], int]:
    if not context.memberships_url:
        raise LtiError("The LMS did not offer its roster service (NRPS) for this course.")
    connector = service_connector(context.deployment.registration)
    url: str | None = context.memberships_url
    members: list[dict[str, Any]] = []
    pages = 0
    while url and pages < MAX_ROSTER_PAGES:
        response = connector.make_service_request(
            [NRPS_SCOPE], url, accept=NRPS_MEDIA_TYPE, case_insensitive_headers=True
        )
        body = response["body"]
        page = body.get("members") if isinstance(body, dict) else None
        if not isinstance(page, list):
            raise LtiError(f"The roster page {url} has no members list.")
        members.extend(m for m in page if isinstance(m, dict) and m.get("user_id"))
        pages += 1
        url = _next_page(response["headers"].get("Link"))
    return members, pages


def roster_sync(*, course_context_id: int) -> RosterSyncReport:
    """Fetch the LMS course's members (NRPS, every page) and enrol or update each one on the course."""
    link = CourseContext.objects.select_related("course", "context__deployment__registration").get(pk=course_context_id)
    context = link.context
    registration = context.deployment.registration
    members, pages = roster_fetch(context=context)
    report = RosterSyncReport(members=len(members), pages=pages)
    with transaction.atomic():
        for member in members:
            member.setdefault("status", "Active")
            member.setdefault("roles", [])
        context.update_memberships(members)
        for member in members:
            sub = str(member["user_id"])
            role = course_role_from_lti(member["roles"])
            known = LtiIdentity.objects.filter(issuer=registration.issuer, sub=sub).exists()
            active = member["status"] == "Active"
            if not known and not active:
                continue
            user = identity_provision(
                registration=registration, sub=sub, name=str(member.get("name") or ""),
                given_name=str(member.get("given_name") or ""), family_name=str(member.get("family_name") or ""),
                email=str(member.get("email") or ""),
                platform_role=Role.INSTRUCTOR if role == CourseRole.INSTRUCTOR else Role.LEARNER,
            )  # fmt: skip
            LtiUser.objects.filter(registration=registration, sub=sub).update(auth_user=user)
            if not known:
                report.created.append(user.username)
            if not active:
                report.inactive.append(user.username)
                continue
            before = Enrollment.objects.filter(course=link.course, user=user).values_list("role", flat=True).first()
            enrollment = enrollment_sync(course=link.course, user=user, role=role)
            if before is None:
                report.enrolled.append(user.username)
            elif before != enrollment.role:
                report.updated.append(user.username)
        link.last_roster_sync = timezone.now()
        link.last_roster_report = report.as_dict()
        link.save(update_fields=["last_roster_sync", "last_roster_report"])
    return report


def roster_sync_queue(*, course: Course) -> int:
    """Queue a roster sync for every LMS context of the course that offers NRPS; returns how many."""
    from trainer.lti.tasks import roster_sync as roster_sync_task

    links = list(
        CourseContext.objects.filter(course=course).exclude(context__memberships_url="").values_list("pk", flat=True)
    )
    for pk in links:
        transaction.on_commit(lambda pk=pk: roster_sync_task.delay(pk))  # type: ignore[misc]
    return len(links)


# ----------------------------------------------------------------------------------------------- tool keys


def tool_key_current() -> Key:
    """The key the tool signs with (the newest active one), created on first use."""
    key = Key.objects.active().order_by("-datetime_created", "-pk").first()
    return key if key is not None else Key.objects.generate()


def tool_key_rotate(*, retire_after: timedelta) -> tuple[Key, list[str]]:
    """Make a new signing key. Older keys stay in the JWKS (platforms may still verify tokens they signed and
    cache the key set) until they have been superseded for ``retire_after``; then they are retired."""
    with transaction.atomic():
        new = Key.objects.generate()
        retired = tool_key_retire(retire_after=retire_after)
    return new, retired


def tool_key_retire(*, retire_after: timedelta) -> list[str]:
    keys = list(Key.objects.active().order_by("-datetime_created", "-pk"))
    cutoff = timezone.now() - retire_after
    retired = []
    for newer, older in itertools.pairwise(keys):
        if newer.datetime_created <= cutoff:  # ``older`` was superseded before the cutoff
            older.is_active = False
            older.save(update_fields=["is_active", "datetime_modified"])
            retired.append(str(older))
    return retired


def passback_targets_exist(*, assignment: Assignment) -> bool:
    return ResourceLinkAssignment.objects.filter(assignment=assignment, line_item__isnull=False).exists()


def lab_run_graded(*, run: GradingRun) -> list[int]:
    """Hook called when a grading run is saved: once it is done, queue a passback for every lab assignment of
    that lab, bound to a line item, in a course the learner is enrolled in."""
    if run.status != RunStatus.DONE:
        return []
    attempt = run.attempt
    assignments = Assignment.objects.filter(
        kind=AssignmentKind.LAB, lab_slug=attempt.lab_slug, course__enrollments__user_id=attempt.learner_id,
        lti_links__line_item__isnull=False,
    ).distinct()  # fmt: skip
    ids: list[int] = []
    for assignment in assignments:
        if assignment.opens_at is None or attempt.started >= assignment.opens_at:
            ids += passback_queue(assignment=assignment, learner=attempt.learner, lab_run=run)
    return ids


def exam_attempt_submitted(*, attempt: ExamAttempt) -> None:
    """Hook called when an attempt is saved: queue passbacks once it is submitted and bound to a line item."""
    if attempt.assignment_id and attempt.status != AttemptStatus.ACTIVE and attempt.percent is not None:
        assert attempt.assignment is not None
        if passback_targets_exist(assignment=attempt.assignment):
            passback_queue_for_attempt(attempt=attempt)

"""Writes for courses: create, enrol (invite code, CSV roster, LTI), assignments, accommodations, starting an
assignment with its window, attempts and accommodations applied, grade overrides."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from trainer.accounts.models import User
from trainer.bank.models import Track
from trainer.courses.models import (
    Accommodation,
    Assignment,
    AssignmentKind,
    Course,
    CourseRole,
    Enrollment,
    GradeOverride,
    RosterImport,
    Section,
    new_invite_code,
)
from trainer.exams.models import AttemptStatus, ExamAttempt
from trainer.exams.services import exam_start
from trainer.practice.models import PracticeSession
from trainer.practice.services import practice_session_start


class CourseError(ValueError):
    """Something the user can fix; the message says what."""


@transaction.atomic
def course_create(*, by: User, title: str, code: str, track: Track, description: str = "") -> Course:
    course = Course(title=title, code=code, track=track, description=description, created_by=by)
    course.full_clean()
    course.save()
    Enrollment.objects.create(course=course, user=by, role=CourseRole.INSTRUCTOR, source=Enrollment.Source.MANUAL)
    return course


def course_enroll(
    *, course: Course, user: User, role: str = CourseRole.LEARNER, source: str = Enrollment.Source.MANUAL,
    section: Section | None = None,
) -> Enrollment:  # fmt: skip
    """Idempotent: enrolling someone already enrolled keeps their record (and upgrades nothing silently)."""
    enrollment, created = Enrollment.objects.get_or_create(
        course=course, user=user, defaults={"role": role, "source": source, "section": section}
    )
    if not created and section is not None and enrollment.section_id != section.pk:
        enrollment.section = section
        enrollment.save(update_fields=["section"])
    return enrollment


def course_join_by_code(*, user: User, code: str) -> Course:
    course = Course.objects.filter(invite_code=code.strip(), invite_enabled=True, archived=False).first()
    if course is None:
        raise CourseError("That invite code is not valid (or the course no longer accepts new learners).")
    course_enroll(course=course, user=user, source=Enrollment.Source.INVITE)
    return course


def course_rotate_invite(*, course: Course) -> str:
    course.invite_code = new_invite_code()
    course.save(update_fields=["invite_code"])
    return course.invite_code


# ----------------------------------------------------------------------------------------------- CSV roster

ROSTER_COLUMNS = ("username", "email", "role", "section")


@dataclass
class RosterReport:
    created: list[str] = field(default_factory=list)
    enrolled: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "enrolled": self.enrolled, "already": self.already, "errors": self.errors}


def roster_import_csv(*, course: Course, text: str, by: User, dry_run: bool = False) -> RosterReport:
    """CSV with a header ``username,email[,role][,section]``. Every row is validated first and every bad row
    reported with its line; if any row is bad nothing is imported. New accounts get an unusable password and
    set one through the password-reset e-mail."""
    report = RosterReport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "username" not in header or "email" not in header:
        report.errors.append("line 1: the header must name at least the columns username and email")
        return report
    rows: list[tuple[int, dict[str, str]]] = []
    seen: set[str] = set()
    for line, raw in enumerate(reader, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        if not any(row.values()):
            continue
        username, email = row.get("username", ""), row.get("email", "")
        role = (row.get("role") or CourseRole.LEARNER).lower()
        problems = []
        if not username:
            problems.append("username is empty")
        elif username.lower() in seen:
            problems.append(f"{username} appears twice")
        try:
            validate_email(email)
        except ValidationError:
            problems.append(f"{email!r} is not an e-mail address")
        if role not in CourseRole.values:
            problems.append(f"role {role!r} is not one of {', '.join(CourseRole.values)}")
        existing = User.objects.filter(username__iexact=username).first() if username else None
        if existing and email and existing.email and existing.email.lower() != email.lower():
            problems.append(f"user {username} exists with another e-mail address")
        if problems:
            report.errors.append(f"line {line}: " + "; ".join(problems))
        seen.add(username.lower())
        rows.append((line, {**row, "role": role}))
    if report.errors or dry_run:
        return report
    with transaction.atomic():
        for _, row in rows:
            user = User.objects.filter(username__iexact=row["username"]).first()
            if user is None:
                user = User(username=row["username"], email=row["email"])
                user.set_unusable_password()
                user.save()
                report.created.append(user.username)
            section = (
                Section.objects.get_or_create(course=course, name=row["section"])[0] if row.get("section") else None
            )
            if Enrollment.objects.filter(course=course, user=user).exists():
                report.already.append(user.username)
            else:
                report.enrolled.append(user.username)
            course_enroll(course=course, user=user, role=row["role"], source=Enrollment.Source.CSV, section=section)
        RosterImport.objects.create(course=course, by=by, report=report.as_dict())
    return report


# ----------------------------------------------------------------------------------------------- assignments


def accommodation_for(*, course: Course, user: User) -> Accommodation | None:
    return Accommodation.objects.filter(course=course, user=user).first()


def accommodation_set(
    *, course: Course, user: User, time_multiplier: float = 1.0, extended_due_at: Any = None, note: str = ""
) -> Accommodation:
    if not 1.0 <= time_multiplier <= 4.0:
        raise CourseError("Extra time is a multiplier between 1.0 and 4.0 (1.5 = time and a half).")
    acc, _ = Accommodation.objects.update_or_create(
        course=course, user=user,
        defaults={"time_multiplier": time_multiplier, "extended_due_at": extended_due_at, "note": note},
    )  # fmt: skip
    return acc


def assignment_due_for(*, assignment: Assignment, user: User) -> Any:
    acc = accommodation_for(course=assignment.course, user=user)
    if acc and acc.extended_due_at and (assignment.due_at is None or acc.extended_due_at > assignment.due_at):
        return acc.extended_due_at
    return assignment.due_at


def assignment_attempts_used(*, assignment: Assignment, user: User) -> int:
    if assignment.kind == AssignmentKind.EXAM:
        return ExamAttempt.objects.filter(assignment=assignment, learner=user).count()
    if assignment.kind == AssignmentKind.PRACTICE:
        return PracticeSession.objects.filter(assignment=assignment, learner=user).count()
    return 0


def assignment_start(*, assignment: Assignment, user: User) -> ExamAttempt | PracticeSession:
    """Start (or resume) the learner's work on an assignment, honouring the window, the attempts allowed and
    the learner's accommodations (extra time on the exam timer, extended due date)."""
    if not Enrollment.objects.filter(course=assignment.course, user=user).exists():
        raise PermissionDenied("You are not enrolled in this course.")
    now = timezone.now()
    if not assignment.published or (assignment.opens_at and now < assignment.opens_at):
        raise CourseError("This assignment is not open yet.")
    due = assignment_due_for(assignment=assignment, user=user)
    if due and now > due:
        raise CourseError("This assignment is past its due date.")
    if assignment.kind == AssignmentKind.EXAM:
        active = ExamAttempt.objects.filter(assignment=assignment, learner=user, status=AttemptStatus.ACTIVE).first()
        if active:
            return active
    used = assignment_attempts_used(assignment=assignment, user=user)
    if assignment.attempts_allowed is not None and used >= assignment.attempts_allowed:
        raise CourseError(f"You have used all {assignment.attempts_allowed} attempt(s) of this assignment.")
    if assignment.kind == AssignmentKind.EXAM:
        acc = accommodation_for(course=assignment.course, user=user)
        attempt = exam_start(
            learner=user, blueprint=assignment.blueprint, form=assignment.exam_form,
            time_multiplier=acc.time_multiplier if acc else 1.0, assignment=assignment,
            minutes=assignment.time_limit_minutes,
        )  # fmt: skip
        return attempt
    if assignment.kind == AssignmentKind.PRACTICE:
        session = practice_session_start(
            learner=user, track=assignment.course.track, domain_codes=assignment.practice_domains,
            count=assignment.practice_count or 10,
        )  # fmt: skip
        session.assignment = assignment
        session.save(update_fields=["assignment"])
        return session
    raise CourseError("Labs are started from the lab page.")


def grade_override_set(
    *, assignment: Assignment, learner: User, percent: float | None, reason: str, by: User
) -> GradeOverride:
    if not reason.strip():
        raise CourseError("Say why the grade is overridden: the reason is kept in the audit trail.")
    if percent is not None and not 0 <= percent <= 100:
        raise CourseError("A grade is a percentage between 0 and 100.")
    if not Enrollment.objects.filter(course=assignment.course, user=learner, role=CourseRole.LEARNER).exists():
        raise CourseError("That learner is not enrolled in this course.")
    return GradeOverride.objects.create(assignment=assignment, learner=learner, percent=percent, reason=reason, by=by)


# ----------------------------------------------------------------------------------------------- assignment CRUD

ASSIGNMENT_FIELDS = (
    "title", "kind", "blueprint", "exam_form", "practice_count", "practice_domains", "lab_slug", "opens_at",
    "due_at", "attempts_allowed", "time_limit_minutes", "points", "published",
)  # fmt: skip


def _assignment_check(assignment: Assignment) -> None:
    course = assignment.course
    if assignment.kind == AssignmentKind.EXAM and not (assignment.blueprint_id or assignment.exam_form_id):
        raise CourseError("A mock-exam assignment needs a blueprint or a fixed exam form.")
    if assignment.blueprint is not None and assignment.blueprint.track_id != course.track_id:
        raise CourseError("The blueprint belongs to another exam track than the course.")
    if assignment.exam_form is not None and assignment.exam_form.track_id != course.track_id:
        raise CourseError("The exam form belongs to another exam track than the course.")
    if assignment.kind == AssignmentKind.LAB and not assignment.lab_slug:
        raise CourseError("A lab assignment names its lab (lab_slug).")
    if assignment.opens_at and assignment.due_at and assignment.due_at <= assignment.opens_at:
        raise CourseError("The due date must be after the opening date.")
    try:
        assignment.full_clean()
    except ValidationError as exc:
        raise CourseError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc


def assignment_create(*, course: Course, **fields: Any) -> Assignment:
    unknown = set(fields) - set(ASSIGNMENT_FIELDS)
    if unknown:
        raise CourseError(f"Unknown assignment fields: {', '.join(sorted(unknown))}.")
    assignment = Assignment(course=course, **fields)
    _assignment_check(assignment)
    assignment.save()
    return assignment


def assignment_update(*, assignment: Assignment, **fields: Any) -> Assignment:
    unknown = set(fields) - set(ASSIGNMENT_FIELDS)
    if unknown:
        raise CourseError(f"Unknown assignment fields: {', '.join(sorted(unknown))}.")
    for name, value in fields.items():
        setattr(assignment, name, value)
    _assignment_check(assignment)
    assignment.save()
    return assignment


def assignment_delete(*, assignment: Assignment) -> None:
    """Only an assignment nobody has worked on can go; otherwise unpublish it (grades are kept)."""
    if assignment.exam_attempts.exists() or PracticeSession.objects.filter(assignment=assignment).exists():
        raise CourseError("Learners have worked on this assignment: unpublish it instead of deleting it.")
    assignment.delete()


def course_enroll_by_username(
    *, course: Course, username: str, role: str = CourseRole.LEARNER, section_name: str = ""
) -> Enrollment:
    user = User.objects.filter(username__iexact=username.strip()).first()
    if user is None:
        raise CourseError(f"No user named {username!r}: import a CSV roster to create accounts.")
    if role not in CourseRole.values:
        raise CourseError(f"role {role!r} is not one of {', '.join(CourseRole.values)}")
    section = (
        Section.objects.get_or_create(course=course, name=section_name.strip())[0] if section_name.strip() else None
    )
    return course_enroll(course=course, user=user, role=role, section=section)

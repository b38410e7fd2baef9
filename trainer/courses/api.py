"""Instructor-scope API for courses: courses taught, enrolments and CSV roster import, assignments,
accommodations, gradebook (JSON and CSV), grade overrides, item analysis and cohort readiness. Same services and
selectors as the pages. A course someone does not teach answers 404; people who teach nothing get 403."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trainer.accounts.models import User
from trainer.bank.models import Blueprint, Track
from trainer.core.serializers import CodeRelatedField
from trainer.courses.models import Accommodation, Assignment, AssignmentKind, Course, CourseRole, Enrollment
from trainer.courses.selectors import (
    STAFF_ROLES,
    can_teach,
    cohort_readiness,
    courses_taught_by,
    gradebook,
    gradebook_csv,
    item_analysis,
)
from trainer.courses.services import (
    CourseError,
    accommodation_set,
    assignment_create,
    assignment_delete,
    assignment_update,
    course_create,
    course_enroll_by_username,
    grade_override_set,
    roster_import_csv,
)
from trainer.exams.models import ExamForm

MAX_ROSTER_CHARS = 1024 * 1024


def _user(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


class TeachesCourses(BasePermission):
    """Instructors, administrators, and anyone staffing a course (instructor or assistant enrolment)."""

    message = "This endpoint is for instructors."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not isinstance(user, User) or not user.is_authenticated:
            return False
        return user.is_instructor or Enrollment.objects.filter(user=user, role__in=STAFF_ROLES).exists()


def _taught(request: Request, code: str) -> Course:
    """The course, if the user teaches it; 404 otherwise (another instructor must not learn it exists)."""
    course = Course.objects.select_related("track").filter(code=code).first()
    if course is None or not can_teach(_user(request), course):
        raise NotFound("No such course.")
    return course


def _bad(exc: Exception) -> ValidationError:
    if isinstance(exc, DjangoValidationError):
        return ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages})
    return ValidationError({"detail": str(exc)})


class InstructorView(APIView):
    permission_classes = [TeachesCourses]


# ----------------------------------------------------------------------------------------------- courses


class CourseOut(serializers.ModelSerializer[Course]):
    track = serializers.CharField(source="track.code")

    class Meta:
        model = Course
        fields = ("id", "code", "title", "description", "track", "invite_code", "invite_enabled",
                  "pass_mark_percent", "archived", "created")  # fmt: skip


class CourseIn(serializers.Serializer[object]):
    title = serializers.CharField(max_length=200)
    code = serializers.SlugField(max_length=40)
    track = CodeRelatedField(slug_field="code", queryset=Track.objects.all())
    description = serializers.CharField(required=False, allow_blank=True, default="")


class CourseListCreate(InstructorView):
    @extend_schema(responses=CourseOut(many=True), summary="Courses I teach")
    def get(self, request: Request) -> Response:
        courses = courses_taught_by(_user(request)).select_related("track").order_by("-created")
        return Response(CourseOut(courses, many=True).data)

    @extend_schema(request=CourseIn, responses={201: CourseOut}, summary="Create a course (I become its instructor)")
    def post(self, request: Request) -> Response:
        if not _user(request).is_instructor:
            raise PermissionDenied("Only instructors create courses.")
        data = CourseIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            course = course_create(by=_user(request), **data.validated_data)
        except (DjangoValidationError, CourseError) as exc:
            raise _bad(exc) from exc
        return Response(CourseOut(course).data, status=status.HTTP_201_CREATED)


class CourseDetail(InstructorView):
    @extend_schema(responses=CourseOut, summary="A course I teach")
    def get(self, request: Request, code: str) -> Response:
        return Response(CourseOut(_taught(request, code)).data)


# ----------------------------------------------------------------------------------------------- enrolments


class EnrollmentOut(serializers.ModelSerializer[Enrollment]):
    username = serializers.CharField(source="user.username")
    email = serializers.CharField(source="user.email")
    section = serializers.CharField(source="section.name", allow_null=True, default=None)

    class Meta:
        model = Enrollment
        fields = ("id", "username", "email", "role", "section", "source", "created")


class EnrollmentIn(serializers.Serializer[object]):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=CourseRole.choices, default=CourseRole.LEARNER)
    section = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class EnrollmentListCreate(InstructorView):
    @extend_schema(responses=EnrollmentOut(many=True), summary="People in the course")
    def get(self, request: Request, code: str) -> Response:
        course = _taught(request, code)
        rows = course.enrollments.select_related("user", "section").order_by("role", "user__username")
        return Response(EnrollmentOut(rows, many=True).data)

    @extend_schema(request=EnrollmentIn, responses={201: EnrollmentOut}, summary="Enrol an existing user")
    def post(self, request: Request, code: str) -> Response:
        course = _taught(request, code)
        data = EnrollmentIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            enrollment = course_enroll_by_username(
                course=course, username=data.validated_data["username"], role=data.validated_data["role"],
                section_name=data.validated_data["section"],
            )  # fmt: skip
        except CourseError as exc:
            raise _bad(exc) from exc
        return Response(EnrollmentOut(enrollment).data, status=status.HTTP_201_CREATED)


class RosterIn(serializers.Serializer[object]):
    csv = serializers.CharField(max_length=MAX_ROSTER_CHARS, trim_whitespace=False,
                                help_text="CSV text with a header username,email[,role][,section]")  # fmt: skip
    dry_run = serializers.BooleanField(default=True, help_text="Check only (the default): import nothing.")


class RosterReportOut(serializers.Serializer[object]):
    dry_run = serializers.BooleanField()
    imported = serializers.BooleanField()
    created = serializers.ListField(child=serializers.CharField())
    enrolled = serializers.ListField(child=serializers.CharField())
    already = serializers.ListField(child=serializers.CharField())

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        # declared here: a class attribute named ``errors`` would hide ``Serializer.errors``
        fields["errors"] = serializers.ListField(
            child=serializers.CharField(), help_text="Every bad row, with its line."
        )
        return fields


class RosterImport(InstructorView):
    @extend_schema(
        request=RosterIn, responses={200: RosterReportOut, 400: RosterReportOut},
        summary="Import a CSV roster (validated first; nothing is imported if any row is bad)",
    )  # fmt: skip
    def post(self, request: Request, code: str) -> Response:
        course = _taught(request, code)
        data = RosterIn(data=request.data)
        data.is_valid(raise_exception=True)
        dry_run = data.validated_data["dry_run"]
        report = roster_import_csv(course=course, text=data.validated_data["csv"], by=_user(request), dry_run=dry_run)
        body = {**report.as_dict(), "dry_run": dry_run, "imported": not dry_run and not report.errors}
        return Response(RosterReportOut(body).data, status=status.HTTP_400_BAD_REQUEST if report.errors else 200)


# ----------------------------------------------------------------------------------------------- assignments


class AssignmentOut(serializers.ModelSerializer[Assignment]):
    blueprint = serializers.CharField(source="blueprint.code", allow_null=True, default=None)

    class Meta:
        model = Assignment
        fields = (
            "id", "title", "kind", "blueprint", "exam_form", "practice_count", "practice_domains", "lab_slug",
            "opens_at", "due_at", "attempts_allowed", "time_limit_minutes", "points", "published", "created",
        )  # fmt: skip


class AssignmentIn(serializers.Serializer[object]):
    title = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=AssignmentKind.choices)
    blueprint = CodeRelatedField(slug_field="code", queryset=Blueprint.objects.all(), required=False,
                                             allow_null=True)  # fmt: skip
    exam_form = serializers.PrimaryKeyRelatedField(queryset=ExamForm.objects.filter(published=True), required=False,
                                                   allow_null=True)  # fmt: skip
    practice_count = serializers.IntegerField(min_value=1, max_value=200, required=False, allow_null=True)
    practice_domains = serializers.ListField(child=serializers.CharField(max_length=40), required=False)
    lab_slug = serializers.SlugField(max_length=80, required=False, allow_blank=True)
    opens_at = serializers.DateTimeField(required=False, allow_null=True)
    due_at = serializers.DateTimeField(required=False, allow_null=True)
    attempts_allowed = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    time_limit_minutes = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    points = serializers.IntegerField(min_value=0, max_value=10000, required=False)
    published = serializers.BooleanField(required=False)


def _assignment(request: Request, code: str, pk: int) -> Assignment:
    return get_object_or_404(Assignment.objects.select_related("blueprint"), pk=pk, course=_taught(request, code))


class AssignmentListCreate(InstructorView):
    @extend_schema(responses=AssignmentOut(many=True), summary="The course's assignments")
    def get(self, request: Request, code: str) -> Response:
        course = _taught(request, code)
        return Response(AssignmentOut(course.assignments.select_related("blueprint"), many=True).data)

    @extend_schema(request=AssignmentIn, responses={201: AssignmentOut}, summary="Create an assignment")
    def post(self, request: Request, code: str) -> Response:
        course = _taught(request, code)
        data = AssignmentIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            assignment = assignment_create(course=course, **data.validated_data)
        except CourseError as exc:
            raise _bad(exc) from exc
        return Response(AssignmentOut(assignment).data, status=status.HTTP_201_CREATED)


class AssignmentDetail(InstructorView):
    @extend_schema(responses=AssignmentOut, summary="An assignment")
    def get(self, request: Request, code: str, pk: int) -> Response:
        return Response(AssignmentOut(_assignment(request, code, pk)).data)

    @extend_schema(request=AssignmentIn(partial=True), responses=AssignmentOut, summary="Change an assignment")
    def patch(self, request: Request, code: str, pk: int) -> Response:
        assignment = _assignment(request, code, pk)
        data = AssignmentIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        try:
            assignment = assignment_update(assignment=assignment, **data.validated_data)
        except CourseError as exc:
            raise _bad(exc) from exc
        return Response(AssignmentOut(assignment).data)

    @extend_schema(responses={204: None}, summary="Delete an assignment nobody has worked on")
    def delete(self, request: Request, code: str, pk: int) -> Response:
        try:
            assignment_delete(assignment=_assignment(request, code, pk))
        except CourseError as exc:
            raise _bad(exc) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


# ----------------------------------------------------------------------------------------------- accommodations


class AccommodationOut(serializers.ModelSerializer[Accommodation]):
    username = serializers.CharField(source="user.username")

    class Meta:
        model = Accommodation
        fields = ("id", "username", "time_multiplier", "extended_due_at", "note")


class AccommodationIn(serializers.Serializer[object]):
    username = serializers.CharField(max_length=150)
    time_multiplier = serializers.FloatField(min_value=1.0, max_value=4.0, default=1.0)
    extended_due_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class AccommodationListSet(InstructorView):
    @extend_schema(responses=AccommodationOut(many=True), summary="Accommodations in the course")
    def get(self, request: Request, code: str) -> Response:
        course = _taught(request, code)
        return Response(AccommodationOut(course.accommodations.select_related("user"), many=True).data)

    @extend_schema(request=AccommodationIn, responses=AccommodationOut, summary="Set a learner's accommodation")
    def post(self, request: Request, code: str) -> Response:
        course = _taught(request, code)
        data = AccommodationIn(data=request.data)
        data.is_valid(raise_exception=True)
        enrollment = (
            Enrollment.objects.filter(
                course=course, user__username=data.validated_data["username"], role=CourseRole.LEARNER
            )
            .select_related("user")
            .first()
        )
        if enrollment is None:
            raise ValidationError({"username": "No learner with that user name in this course."})
        try:
            acc = accommodation_set(
                course=course, user=enrollment.user, time_multiplier=data.validated_data["time_multiplier"],
                extended_due_at=data.validated_data["extended_due_at"], note=data.validated_data["note"],
            )  # fmt: skip
        except CourseError as exc:
            raise _bad(exc) from exc
        return Response(AccommodationOut(acc).data)


# ----------------------------------------------------------------------------------------------- gradebook


class GradeCellOut(serializers.Serializer[object]):
    assignment = serializers.IntegerField()
    percent = serializers.FloatField(allow_null=True)
    attempts = serializers.IntegerField()
    overridden = serializers.BooleanField()
    status = serializers.CharField()
    score = serializers.CharField(help_text="Labs: the best score as points/max (empty otherwise)")


class GradebookRowOut(serializers.Serializer[object]):
    username = serializers.CharField()
    email = serializers.CharField()
    cells = GradeCellOut(many=True)
    domains = serializers.DictField(child=serializers.FloatField(), help_text="domain code → percent")


class GradebookAssignmentOut(serializers.Serializer[object]):
    id = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.CharField()
    points = serializers.IntegerField()


class GradebookOut(serializers.Serializer[object]):
    assignments = GradebookAssignmentOut(many=True)
    domains = serializers.DictField(child=serializers.CharField(), help_text="domain code → name")
    rows = GradebookRowOut(many=True)


def _gradebook_body(course: Course) -> dict[str, Any]:
    book = gradebook(course)
    return {
        "assignments": [{"id": a.pk, "title": a.title, "kind": a.kind, "points": a.points} for a in book.assignments],
        "domains": book.domain_names,
        "rows": [
            {
                "username": row.learner.username, "email": row.learner.email, "domains": row.domains,
                "cells": [
                    {"assignment": a.pk, "percent": c.percent, "attempts": c.attempts, "overridden": c.overridden,
                     "status": c.status, "score": c.score}
                    for a, c in zip(book.assignments, row.cells, strict=True)
                ],
            }
            for row in book.rows
        ],
    }  # fmt: skip


class GradebookView(InstructorView):
    @extend_schema(responses=GradebookOut, summary="Gradebook: learners × assignments, per-domain percent")
    def get(self, request: Request, code: str) -> Response:
        return Response(GradebookOut(_gradebook_body(_taught(request, code))).data)


class GradebookCsvView(InstructorView):
    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR}, summary="Gradebook as CSV")
    def get(self, request: Request, code: str) -> HttpResponse:
        course = _taught(request, code)
        response = HttpResponse(gradebook_csv(course), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="gradebook-{course.code}.csv"'
        return response


class OverrideIn(serializers.Serializer[object]):
    username = serializers.CharField(max_length=150)
    assignment = serializers.IntegerField()
    percent = serializers.FloatField(min_value=0, max_value=100, allow_null=True)
    reason = serializers.CharField(max_length=500)


class OverrideOut(serializers.Serializer[object]):
    id = serializers.IntegerField()
    username = serializers.CharField(source="learner.username")
    assignment = serializers.IntegerField(source="assignment_id")
    percent = serializers.FloatField(allow_null=True)
    reason = serializers.CharField()
    created = serializers.DateTimeField()


class GradeOverrideCreate(InstructorView):
    @extend_schema(
        request=OverrideIn, responses={201: OverrideOut}, summary="Override a grade (kept in the audit trail)"
    )
    def post(self, request: Request, code: str) -> Response:
        course = _taught(request, code)
        data = OverrideIn(data=request.data)
        data.is_valid(raise_exception=True)
        assignment = Assignment.objects.filter(pk=data.validated_data["assignment"], course=course).first()
        learner = User.objects.filter(username=data.validated_data["username"]).first()
        if assignment is None or learner is None:
            raise ValidationError({"detail": "No such assignment or learner in this course."})
        try:
            override = grade_override_set(
                assignment=assignment, learner=learner, percent=data.validated_data["percent"],
                reason=data.validated_data["reason"], by=_user(request),
            )  # fmt: skip
        except CourseError as exc:
            raise _bad(exc) from exc
        return Response(OverrideOut(override).data, status=status.HTTP_201_CREATED)


# ----------------------------------------------------------------------------------------------- analysis


class OptionStatsOut(serializers.Serializer[object]):
    all = serializers.FloatField()
    upper = serializers.FloatField()
    lower = serializers.FloatField()


class ItemStatsOut(serializers.Serializer[object]):
    item_id = serializers.IntegerField()
    external_id = serializers.CharField()
    n = serializers.IntegerField()
    facility = serializers.FloatField()
    discrimination = serializers.FloatField(allow_null=True)
    point_biserial = serializers.FloatField(allow_null=True)
    options = serializers.DictField(child=OptionStatsOut(), help_text="option key → choice rate by score group")
    flags = serializers.ListField(child=serializers.CharField())


class FormStatsOut(serializers.Serializer[object]):
    examinees = serializers.IntegerField()
    items = serializers.IntegerField()
    mean = serializers.FloatField()
    sd = serializers.FloatField()
    alpha = serializers.FloatField(allow_null=True, help_text="Cronbach's α (KR-20 for dichotomous items)")
    sem = serializers.FloatField(allow_null=True, help_text="standard error of measurement")


class ItemAnalysisOut(serializers.Serializer[object]):
    assignment = serializers.IntegerField()
    attempts = serializers.IntegerField()
    note = serializers.CharField()
    form = FormStatsOut(allow_null=True)
    items = ItemStatsOut(many=True)


class ItemAnalysisView(InstructorView):
    @extend_schema(responses=ItemAnalysisOut, summary="Item analysis of an assignment's submitted attempts")
    def get(self, request: Request, code: str, pk: int) -> Response:
        course = _taught(request, code)
        assignment = get_object_or_404(Assignment, pk=pk, course=course)
        analysis = item_analysis(course=course, assignment=assignment)
        body = {
            "assignment": assignment.pk, "attempts": analysis.attempts, "note": analysis.note,
            "form": analysis.form.__dict__ if analysis.form else None,
            "items": [{**stats.__dict__, "external_id": item.external_id} for item, stats in analysis.items],
        }  # fmt: skip
        return Response(ItemAnalysisOut(body).data)


class DomainReadinessOut(serializers.Serializer[object]):
    code = serializers.CharField()
    name = serializers.CharField()
    learners = serializers.IntegerField()
    mean = serializers.FloatField(allow_null=True)
    histogram = serializers.ListField(child=serializers.IntegerField(), help_text="5 bins of mastery, 0–20% … 80–100%")


class LearnerFlagsOut(serializers.Serializer[object]):
    username = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())


class CohortReadinessOut(serializers.Serializer[object]):
    domains = DomainReadinessOut(many=True)
    at_risk = LearnerFlagsOut(many=True)
    labs_not_done = LearnerFlagsOut(many=True)


class CohortReadinessView(InstructorView):
    @extend_schema(responses=CohortReadinessOut, summary="Cohort readiness: mastery by domain, learners at risk")
    def get(self, request: Request, code: str) -> Response:
        cohort = cohort_readiness(_taught(request, code))
        body = {
            "domains": cohort.domains,
            "at_risk": [{"username": u.username, "reasons": r} for u, r in cohort.at_risk],
            "labs_not_done": [{"username": u.username, "reasons": r} for u, r in cohort.labs_not_done],
        }
        return Response(CohortReadinessOut(body).data)

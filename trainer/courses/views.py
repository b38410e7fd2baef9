from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from trainer.accounts.models import User
from trainer.courses.forms import AccommodationForm, AssignmentForm, CourseForm, JoinForm, OverrideForm, RosterForm
from trainer.courses.models import Assignment, Course, CourseRole, Enrollment, GradeOverride
from trainer.courses.selectors import (
    can_teach,
    cohort_readiness,
    courses_taken_by,
    courses_taught_by,
    gradebook,
    gradebook_csv,
    item_analysis,
)
from trainer.courses.services import (
    CourseError,
    accommodation_set,
    assignment_due_for,
    assignment_start,
    course_create,
    course_join_by_code,
    grade_override_set,
    roster_import_csv,
)
from trainer.exams.models import ExamAttempt


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _member_course(request: HttpRequest, code: str) -> tuple[Course, bool]:
    """The course and whether the user teaches it; anyone not in the course gets 404."""
    course = get_object_or_404(Course, code=code)
    user = _user(request)
    teaches = can_teach(user, course)
    if not teaches and not Enrollment.objects.filter(course=course, user=user).exists():
        raise Http404("No such course.")
    return course, teaches


def _taught_course(request: HttpRequest, code: str) -> Course:
    course, teaches = _member_course(request, code)
    if not teaches:
        raise PermissionDenied("This page is for the course's instructors.")
    return course


@login_required
@require_http_methods(["GET", "POST"])
def course_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = CourseForm(request.POST or None) if user.is_instructor else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("Only instructors create courses.")
        if form.is_valid():
            course = course_create(
                by=user, title=form.cleaned_data["title"], code=form.cleaned_data["code"],
                track=form.cleaned_data["track"], description=form.cleaned_data["description"],
            )  # fmt: skip
            return redirect("courses:detail", code=course.code)
    return render(
        request, "courses/list.html",
        {"teaching": courses_taught_by(user), "taking": courses_taken_by(user), "form": form, "join": JoinForm()},
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def course_join(request: HttpRequest, invite: str = "") -> HttpResponse:
    code = invite or request.POST.get("code", "")
    if request.method == "POST" or invite:
        try:
            course = course_join_by_code(user=_user(request), code=code)
        except CourseError as exc:
            messages.error(request, str(exc))
            return redirect("courses:list")
        messages.success(request, f"You joined {course.title}.")
        return redirect("courses:detail", code=course.code)
    return redirect("courses:list")


@login_required
@require_http_methods(["GET", "POST"])
def course_detail(request: HttpRequest, code: str) -> HttpResponse:
    course, teaches = _member_course(request, code)
    user = _user(request)
    if not teaches:
        rows = [(a, assignment_due_for(assignment=a, user=user)) for a in course.assignments.filter(published=True)]
        attempts = ExamAttempt.objects.filter(assignment__course=course, learner=user)
        return render(request, "courses/learner.html", {"course": course, "rows": rows, "attempts": attempts})
    assignment_form = AssignmentForm(request.POST or None, course=course, prefix="a")
    if request.method == "POST" and assignment_form.is_valid():
        assignment = assignment_form.save(commit=False)
        assignment.course = course
        assignment.save()
        messages.success(request, f"Assignment “{assignment.title}” created.")
        return redirect("courses:detail", code=course.code)
    return render(
        request, "courses/staff.html",
        {
            "course": course, "assignment_form": assignment_form, "roster_form": RosterForm(),
            "accommodation_form": AccommodationForm(),
            "enrollments": course.enrollments.select_related("user", "section").order_by("role", "user__username"),
            "accommodations": course.accommodations.select_related("user"),
            "invite_url": request.build_absolute_uri(f"/courses/join/{course.invite_code}/"),
        },
    )  # fmt: skip


@login_required
@require_POST
def roster_upload(request: HttpRequest, code: str) -> HttpResponse:
    course = _taught_course(request, code)
    form = RosterForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, str(e))
        return redirect("courses:detail", code=course.code)
    report = roster_import_csv(
        course=course, text=form.cleaned_data["file"], by=_user(request), dry_run=form.cleaned_data["dry_run"]
    )
    return render(request, "courses/roster_report.html", {"course": course, "report": report,
                                                           "dry_run": form.cleaned_data["dry_run"]})  # fmt: skip


@login_required
@require_POST
def accommodation_save(request: HttpRequest, code: str) -> HttpResponse:
    course = _taught_course(request, code)
    form = AccommodationForm(request.POST)
    if form.is_valid():
        learner = (
            Enrollment.objects.filter(
                course=course, user__username=form.cleaned_data["username"], role=CourseRole.LEARNER
            )
            .select_related("user")
            .first()
        )
        if learner is None:
            messages.error(request, "No learner with that user name in this course.")
        else:
            try:
                accommodation_set(
                    course=course, user=learner.user, time_multiplier=form.cleaned_data["time_multiplier"],
                    extended_due_at=form.cleaned_data["extended_due_at"], note=form.cleaned_data["note"],
                )  # fmt: skip
                messages.success(request, f"Accommodation saved for {learner.user.username}.")
            except CourseError as exc:
                messages.error(request, str(exc))
    else:
        messages.error(
            request, "Check the accommodation form: " + "; ".join(str(e) for es in form.errors.values() for e in es)
        )
    return redirect("courses:detail", code=course.code)


@login_required
@require_POST
def assignment_begin(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    course, _ = _member_course(request, code)
    assignment = get_object_or_404(Assignment, pk=pk, course=course)
    try:
        started = assignment_start(assignment=assignment, user=_user(request))
    except CourseError as exc:
        messages.error(request, str(exc))
        return redirect("courses:detail", code=course.code)
    if isinstance(started, ExamAttempt):
        return redirect("exams:question", pk=started.pk, n=1)
    return redirect("practice:session", pk=started.pk)


@login_required
@require_http_methods(["GET", "POST"])
def gradebook_page(request: HttpRequest, code: str) -> HttpResponse:
    course = _taught_course(request, code)
    if request.method == "POST":
        form = OverrideForm(request.POST)
        if form.is_valid():
            assignment = get_object_or_404(Assignment, pk=form.cleaned_data["assignment"], course=course)
            learner = User.objects.filter(username=form.cleaned_data["username"]).first()
            try:
                if learner is None:
                    raise CourseError("No such learner.")
                grade_override_set(
                    assignment=assignment, learner=learner, percent=form.cleaned_data["percent"],
                    reason=form.cleaned_data["reason"], by=_user(request),
                )  # fmt: skip
                messages.success(request, "Grade override saved (kept in the audit trail).")
            except CourseError as exc:
                messages.error(request, str(exc))
        return redirect("courses:gradebook", code=course.code)
    overrides = GradeOverride.objects.filter(assignment__course=course).select_related("assignment", "learner", "by")[
        :50
    ]
    return render(
        request, "courses/gradebook.html", {"course": course, "book": gradebook(course), "overrides": overrides}
    )


@login_required
@require_safe
def gradebook_export(request: HttpRequest, code: str) -> HttpResponse:
    course = _taught_course(request, code)
    response = HttpResponse(gradebook_csv(course), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="gradebook-{course.code}.csv"'
    return response


@login_required
@require_safe
def analysis_page(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    course = _taught_course(request, code)
    assignment = get_object_or_404(Assignment, pk=pk, course=course)
    return render(
        request,
        "courses/analysis.html",
        {"course": course, "analysis": item_analysis(course=course, assignment=assignment)},
    )


@login_required
@require_safe
def readiness_page(request: HttpRequest, code: str) -> HttpResponse:
    course = _taught_course(request, code)
    return render(request, "courses/readiness.html", {"course": course, "cohort": cohort_readiness(course)})

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import signed_in
from tests.factories import InstructorFactory, UserFactory
from tests.trainer.exams.conftest import small_blueprint  # noqa: F401
from tests.trainer.practice.conftest import bank  # noqa: F401
from trainer.accounts.models import User
from trainer.bank.models import Track
from trainer.courses.models import Assignment, AssignmentKind, Course, CourseRole, Enrollment, GradeOverride
from trainer.courses.services import (
    CourseError,
    accommodation_set,
    assignment_start,
    course_create,
    grade_override_set,
    roster_import_csv,
)
from trainer.exams.models import ExamAttempt
from trainer.exams.services import exam_save_answer, exam_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(bank, instructor) -> Course:  # noqa: F811
    return course_create(by=instructor, title="PACS 101", code="pacs-101", track=Track.objects.get(code="CDIP"))


@pytest.fixture
def exam_assignment(course, small_blueprint) -> Assignment:  # noqa: F811
    return Assignment.objects.create(
        course=course, title="Midterm", kind=AssignmentKind.EXAM, blueprint=small_blueprint, attempts_allowed=2
    )


def start_exam(assignment: Assignment, user: User) -> ExamAttempt:
    attempt = assignment_start(assignment=assignment, user=user)
    assert isinstance(attempt, ExamAttempt)
    return attempt


def enrol(course: Course, user: User) -> None:
    Enrollment.objects.create(course=course, user=user, role=CourseRole.LEARNER)


def test_a_learner_joins_by_invite_link_and_a_bad_code_is_refused(course, learner_client: Client, learner):
    response = learner_client.get(reverse("courses:join-link", args=[course.invite_code]))
    assert response.status_code == 302
    assert Enrollment.objects.filter(course=course, user=learner, role=CourseRole.LEARNER).exists()
    page = learner_client.post(reverse("courses:join"), {"code": "nope"}, follow=True).content.decode()
    assert "not valid" in page


def test_a_csv_roster_with_bad_rows_reports_each_line_and_imports_nothing(course, instructor):
    text = "username,email,role,section\nana,ana@example.org,learner,Mon\nbob,not-an-email,learner,\n,x@y.org,boss,\n"
    report = roster_import_csv(course=course, text=text, by=instructor)
    assert report.errors == [
        "line 3: 'not-an-email' is not an e-mail address",
        "line 4: username is empty; role 'boss' is not one of instructor, assistant, learner",
    ]
    assert not User.objects.filter(username="ana").exists()


def test_a_valid_roster_creates_accounts_sections_and_is_idempotent(course, instructor):
    text = "\ufeffusername,email,section\nana,ana@example.org,Mon\nbob,bob@example.org,Tue\n"
    first = roster_import_csv(course=course, text=text, by=instructor)
    again = roster_import_csv(course=course, text=text, by=instructor)
    assert (first.created, again.created, again.already) == (["ana", "bob"], [], ["ana", "bob"])
    ana = Enrollment.objects.get(course=course, user__username="ana")
    assert ana.section is not None and ana.section.name == "Mon"
    assert not User.objects.get(username="ana").has_usable_password()


def test_the_roster_upload_page_reports_problems(course, instructor):
    client = signed_in(instructor)
    upload = SimpleUploadedFile("roster.csv", b"username,email\nzed,bad\n", content_type="text/csv")
    page = client.post(reverse("courses:roster", args=[course.code]), {"file": upload}).content.decode()
    assert "line 2" in page and "nothing was imported" in page


def test_extra_time_accommodation_lengthens_the_exam_deadline(course, exam_assignment, learner, other_learner):
    enrol(course, learner)
    enrol(course, other_learner)
    accommodation_set(course=course, user=learner, time_multiplier=1.5)
    mine = start_exam(exam_assignment, learner)
    theirs = start_exam(exam_assignment, other_learner)
    assert mine.deadline - mine.started_at == timedelta(minutes=15)
    assert theirs.deadline - theirs.started_at == timedelta(minutes=10)


def test_an_extended_due_date_opens_a_closed_assignment_for_that_learner_only(
    course, exam_assignment, learner, other_learner
):
    enrol(course, learner)
    enrol(course, other_learner)
    exam_assignment.due_at = timezone.now() - timedelta(hours=1)
    exam_assignment.save()
    accommodation_set(course=course, user=learner, extended_due_at=timezone.now() + timedelta(days=1))
    assert assignment_start(assignment=exam_assignment, user=learner)
    with pytest.raises(CourseError, match="past its due date"):
        assignment_start(assignment=exam_assignment, user=other_learner)


def test_attempts_allowed_are_enforced_and_an_active_attempt_resumes(course, exam_assignment, learner):
    enrol(course, learner)
    first = start_exam(exam_assignment, learner)
    assert assignment_start(assignment=exam_assignment, user=learner).pk == first.pk
    exam_submit(attempt=first)
    exam_submit(attempt=start_exam(exam_assignment, learner))
    with pytest.raises(CourseError, match="all 2 attempt"):
        assignment_start(assignment=exam_assignment, user=learner)


def test_gradebook_shows_the_best_attempt_overrides_win_and_csv_exports(course, exam_assignment, learner, instructor):
    enrol(course, learner)
    attempt = start_exam(exam_assignment, learner)
    for slot in attempt.attempt_items.all():
        exam_save_answer(attempt=attempt, position=slot.position, raw={"choice": "b"})
    exam_submit(attempt=attempt)
    client = signed_in(instructor)
    page = client.get(reverse("courses:gradebook", args=[course.code])).content.decode()
    assert "100.0%" in page
    override = {"username": learner.username, "assignment": exam_assignment.pk, "percent": "90", "reason": "regrade"}
    client.post(reverse("courses:gradebook", args=[course.code]), override)
    assert GradeOverride.objects.get().by == instructor
    csv_text = client.get(reverse("courses:gradebook-csv", args=[course.code])).content.decode()
    assert csv_text.splitlines()[1].startswith(f"{learner.username},{learner.email},90")
    with pytest.raises(CourseError, match="reason"):
        grade_override_set(assignment=exam_assignment, learner=learner, percent=80, reason=" ", by=instructor)


def test_item_analysis_page_lists_every_item_of_the_submitted_attempts(course, exam_assignment, instructor):
    for n in range(4):
        user: User = UserFactory.create(username=f"ex{n}")
        enrol(course, user)
        attempt = start_exam(exam_assignment, user)
        for slot in attempt.attempt_items.all():
            exam_save_answer(attempt=attempt, position=slot.position, raw={"choice": "b" if n % 2 else "a"})
        exam_submit(attempt=attempt)
    page = (
        signed_in(instructor).get(reverse("courses:analysis", args=[course.code, exam_assignment.pk])).content.decode()
    )
    assert "4 submitted attempts" in page
    assert "p-networking" in page or "p-dicomweb" in page


def test_course_pages_are_closed_to_outsiders_and_staff_pages_to_learners(course, learner, other_learner):
    enrol(course, learner)
    teacher: User = InstructorFactory.create(username="other-teacher")
    outsider_teacher = signed_in(teacher)
    for name in ("courses:gradebook", "courses:readiness", "courses:detail"):
        assert outsider_teacher.get(reverse(name, args=[course.code])).status_code == 404
        assert signed_in(other_learner).get(reverse(name, args=[course.code])).status_code == 404
    assert signed_in(learner).get(reverse("courses:gradebook", args=[course.code])).status_code == 403
    assert signed_in(learner).get(reverse("courses:detail", args=[course.code])).status_code == 200


def test_cohort_readiness_lists_learners_at_risk(course, learner, instructor):
    enrol(course, learner)
    page = signed_in(instructor).get(reverse("courses:readiness", args=[course.code])).content.decode()
    assert learner.username in page and "no practice yet" in page


def _graded_lab_attempt(learner: User, points: int, max_points: int = 3, status: str = "active"):
    from labs.grading.models import GradingRun, LabAttempt, RunStatus

    attempt = LabAttempt.objects.create(
        learner=learner, lab_slug="verify-connectivity-echo", best_score=points, max_score=max_points, status=status
    )
    GradingRun.objects.create(attempt=attempt, status=RunStatus.DONE, score=points, max_score=max_points)
    return attempt


def test_lab_assignments_show_the_best_lab_score_in_the_gradebook_csv_api_and_readiness(course, learner, instructor):
    from labs.grading.models import LabAttempt

    enrol(course, learner)
    other: User = UserFactory.create(username="otto-lab")
    enrol(course, other)
    lab = Assignment.objects.create(
        course=course, title="Echo lab", kind=AssignmentKind.LAB, lab_slug="verify-connectivity-echo"
    )
    _graded_lab_attempt(learner, 1, status="finished")
    _graded_lab_attempt(learner, 2)  # the best attempt counts, and one is still open
    LabAttempt.objects.create(learner=other, lab_slug="verify-connectivity-echo", max_score=3)  # never checked
    client = signed_in(instructor)
    page = client.get(reverse("courses:gradebook", args=[course.code])).content.decode()
    assert "2/3" in page and "66.7%" in page
    rows = client.get(reverse("courses:gradebook-csv", args=[course.code])).content.decode().splitlines()
    assert rows[0].endswith("Echo lab,Echo lab (points)")
    assert f"{learner.username},{learner.email},66.7,2/3" in rows and f"otto-lab,{other.email},," in rows
    cells = {r["username"]: r["cells"][0] for r in client.get(f"/api/courses/{course.code}/gradebook/").json()["rows"]}
    assert (cells[learner.username]["score"], cells[learner.username]["percent"]) == ("2/3", 66.7)
    assert (cells["otto-lab"]["percent"], cells["otto-lab"]["attempts"]) == (None, 1)
    readiness = client.get(f"/api/courses/{course.code}/readiness/").json()
    assert {r["username"] for r in readiness["labs_not_done"]} == {learner.username, "otto-lab"}  # no full marks
    _graded_lab_attempt(learner, 3)
    readiness = client.get(f"/api/courses/{course.code}/readiness/").json()
    assert [(r["username"], r["reasons"]) for r in readiness["labs_not_done"]] == [("otto-lab", [lab.title])]


def test_a_lab_assignment_counts_only_work_graded_by_the_due_date_and_the_attempts_allowed(course, learner, instructor):
    """Late work does not raise a lab grade: runs finished after the (learner's extended) due date and attempts
    started after it are ignored, as are attempts beyond the assignment's attempts allowed."""
    from labs.grading.models import GradingRun, LabAttempt, RunStatus
    from trainer.courses.services import accommodation_set
    from trainer.lti.selectors import learner_grade_percent

    now = timezone.now()
    due = now - timedelta(days=1)
    late: User = UserFactory.create(username="lara-late")
    extended: User = UserFactory.create(username="eve-extended")
    for user in (learner, late, extended):
        enrol(course, user)
    accommodation_set(course=course, user=extended, extended_due_at=now + timedelta(days=1))
    lab = Assignment.objects.create(course=course, title="Echo lab", kind=AssignmentKind.LAB,
                                    lab_slug="verify-connectivity-echo", opens_at=now - timedelta(days=10),
                                    due_at=due, attempts_allowed=1)  # fmt: skip

    def attempt(user: User, started_days_ago: float, runs: list[tuple[int, float]]) -> None:
        a = LabAttempt.objects.create(learner=user, lab_slug="verify-connectivity-echo", max_score=3,
                                      best_score=max(p for p, _ in runs))  # fmt: skip
        LabAttempt.objects.filter(pk=a.pk).update(started=now - timedelta(days=started_days_ago))
        for points, days_ago in runs:
            GradingRun.objects.create(attempt=a, status=RunStatus.DONE, score=points, max_score=3,
                                      finished=now - timedelta(days=days_ago))  # fmt: skip

    attempt(learner, 5, [(1, 4.5), (3, 0.5)])  # full marks only after the due date
    attempt(learner, 3, [(2, 2.5)])  # a second attempt: beyond the one allowed
    attempt(late, 0.5, [(3, 0.4)])  # started after the due date
    attempt(extended, 5, [(1, 4), (3, 0.2)])  # full marks after the due date, before their extension
    cells = {
        r["username"]: r["cells"][0]
        for r in signed_in(instructor).get(f"/api/courses/{course.code}/gradebook/").json()["rows"]
    }
    assert (cells[learner.username]["score"], cells[learner.username]["attempts"]) == ("1/3", 1)
    assert (cells["lara-late"]["percent"], cells["lara-late"]["attempts"]) == (None, 0)
    assert cells["eve-extended"]["score"] == "3/3"
    assert learner_grade_percent(assignment=lab, learner=learner) == pytest.approx(100 / 3)  # the LMS gets the same
    readiness = signed_in(instructor).get(f"/api/courses/{course.code}/readiness/").json()
    assert {r["username"] for r in readiness["labs_not_done"]} == {learner.username, "lara-late"}
    lab.published = True
    lab.save()
    page = signed_in(learner).get("/labs/verify-connectivity-echo/").content.decode()  # what counts, on the lab page
    assert "Assigned to you" in page and f"due {timezone.localtime(due):%Y-%m-%d %H:%M}" in page
    assert "your first 1 attempt started" in page and "Your grade so far: 1/3." in page
    page = signed_in(extended).get("/labs/verify-connectivity-echo/").content.decode()
    assert f"due {timezone.localtime(now + timedelta(days=1)):%Y-%m-%d %H:%M}" in page


def test_an_instructor_assigns_a_lab_from_the_course_page_and_the_learner_is_sent_to_it(course, instructor, learner):
    staff = signed_in(instructor)
    url = reverse("courses:detail", args=[course.code])
    fields = {"a-title": "Echo lab", "a-kind": AssignmentKind.LAB, "a-points": 100, "a-published": "on"}
    refused = staff.post(url, fields).content.decode()
    assert "A lab assignment needs a lab." in refused
    assert not course.assignments.exists()
    assert staff.post(url, {**fields, "a-lab_slug": "no-such-lab"}).status_code == 200  # not a choice: form again
    assert not course.assignments.exists()
    assert staff.post(url, {**fields, "a-lab_slug": "verify-connectivity-echo"}).status_code == 302
    assignment = course.assignments.get()
    assert (assignment.kind, assignment.lab_slug) == (AssignmentKind.LAB, "verify-connectivity-echo")
    enrol(course, learner)
    page = signed_in(learner).get(url).content.decode()
    assert 'href="/labs/verify-connectivity-echo/"' in page


def test_the_course_and_invite_code_fields_keep_their_own_labels(course, instructor):
    page = signed_in(instructor).get(reverse("courses:list")).content.decode()
    assert page.count('id="id_code"') == 1 and page.count('id="join_code"') == 1
    assert '<label for="join_code">Invite code:</label>' in page

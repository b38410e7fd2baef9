"""The instructor API: who may see what (owner 200, another instructor 404, learner 403, anonymous 403), and
each operation going through the course services and selectors."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.conftest import signed_in
from tests.factories import InstructorFactory, UserFactory
from tests.trainer.exams.conftest import small_blueprint  # noqa: F401
from tests.trainer.practice.conftest import bank  # noqa: F401
from trainer.bank.models import Track
from trainer.courses.models import Assignment, AssignmentKind, Course, CourseRole, Enrollment
from trainer.courses.services import assignment_start, course_create
from trainer.exams.models import ExamAttempt
from trainer.exams.services import exam_save_answer, exam_submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(bank, instructor) -> Course:  # noqa: F811
    return course_create(by=instructor, title="PACS 101", code="pacs-101", track=Track.objects.get(code="CDIP"))


@pytest.fixture
def exam(course, small_blueprint) -> Assignment:  # noqa: F811
    return Assignment.objects.create(
        course=course, title="Midterm", kind=AssignmentKind.EXAM, blueprint=small_blueprint
    )


def post(client: Client, url: str, data: dict, method: str = "post"):
    return getattr(client, method)(url, json.dumps(data), content_type="application/json")


def read_endpoints(course: Course, exam: Assignment) -> list[str]:
    base = f"/api/courses/{course.code}"
    return [
        f"{base}/", f"{base}/enrollments/", f"{base}/assignments/", f"{base}/assignments/{exam.pk}/",
        f"{base}/accommodations/", f"{base}/gradebook/", f"{base}/gradebook.csv",
        f"{base}/assignments/{exam.pk}/item-analysis/", f"{base}/readiness/",
    ]  # fmt: skip


def test_access_matrix(course, exam, instructor, learner):
    Enrollment.objects.create(course=course, user=learner, role=CourseRole.LEARNER)
    owner = signed_in(instructor)
    other = signed_in(InstructorFactory.create(username="other-prof"))
    student = signed_in(learner)
    anonymous = Client()
    for url in read_endpoints(course, exam):
        assert owner.get(url).status_code == 200, url
        assert other.get(url).status_code == 404, url
        assert student.get(url).status_code == 403, url
        assert anonymous.get(url).status_code == 403, url
    writes = [
        (f"/api/courses/{course.code}/enrollments/", {"username": learner.username}),
        (f"/api/courses/{course.code}/assignments/", {"title": "x", "kind": "practice"}),
        (f"/api/courses/{course.code}/enrollments/import/", {"csv": "username,email\n", "dry_run": True}),
    ]
    for url, data in writes:
        assert post(other, url, data).status_code == 404, url
        assert post(student, url, data).status_code == 403, url
        assert post(anonymous, url, data).status_code == 403, url


def test_an_assistant_teaches_the_course_through_the_api(course, exam):
    assistant = UserFactory.create(username="assist")
    Enrollment.objects.create(course=course, user=assistant, role=CourseRole.ASSISTANT)
    client = signed_in(assistant)
    assert client.get(f"/api/courses/{course.code}/gradebook/").status_code == 200
    assert [c["code"] for c in client.get("/api/courses/").json()] == [course.code]
    assert post(client, "/api/courses/", {"title": "Mine", "code": "mine", "track": "CDIP"}).status_code == 403


def test_courses_list_and_create(course, instructor):
    client = signed_in(instructor)
    created = post(client, "/api/courses/", {"title": "PACS 201", "code": "pacs-201", "track": "CDIP"})
    assert created.status_code == 201 and created.json()["track"] == "CDIP"
    assert {c["code"] for c in client.get("/api/courses/").json()} == {"pacs-101", "pacs-201"}
    assert Enrollment.objects.get(course__code="pacs-201", user=instructor).role == "instructor"
    duplicate = post(client, "/api/courses/", {"title": "Again", "code": "pacs-201", "track": "CDIP"})
    assert duplicate.status_code == 400
    other = signed_in(InstructorFactory.create(username="other-prof"))
    assert other.get("/api/courses/").json() == []


def test_enrolments_list_add_and_csv_import_with_dry_run(course, instructor, learner):
    client = signed_in(instructor)
    base = f"/api/courses/{course.code}/enrollments/"
    added = post(client, base, {"username": learner.username, "section": "Mon"})
    assert added.status_code == 201 and added.json()["section"] == "Mon"
    assert post(client, base, {"username": "nobody"}).status_code == 400
    csv_text = "username,email,role\nana,ana@example.org,learner\nbob,bob@example.org,assistant\n"
    dry = post(client, base + "import/", {"csv": csv_text})
    assert dry.status_code == 200 and dry.json()["dry_run"] is True and dry.json()["imported"] is False
    assert not Enrollment.objects.filter(course=course, user__username="ana").exists()
    real = post(client, base + "import/", {"csv": csv_text, "dry_run": False})
    assert real.json()["created"] == ["ana", "bob"] and real.json()["imported"] is True
    bad = post(client, base + "import/", {"csv": "username,email\nzed,not-an-email\n", "dry_run": False})
    assert bad.status_code == 400 and bad.json()["errors"] == ["line 2: 'not-an-email' is not an e-mail address"]
    people = {e["username"]: e["role"] for e in client.get(base).json()}
    assert people == {"ines": "instructor", learner.username: "learner", "ana": "learner", "bob": "assistant"}


def test_assignments_crud(course, instructor, learner, small_blueprint):  # noqa: F811
    client = signed_in(instructor)
    base = f"/api/courses/{course.code}/assignments/"
    created = post(client, base, {"title": "Final", "kind": "exam", "blueprint": small_blueprint.code,
                                  "attempts_allowed": 2, "due_at": "2030-01-01T10:00:00Z"})  # fmt: skip
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert post(client, base, {"title": "No blueprint", "kind": "exam"}).status_code == 400
    bad_dates = {"opens_at": "2030-02-01T00:00:00Z"}
    assert "after the opening date" in post(client, f"{base}{pk}/", bad_dates, "patch").json()["detail"]
    changed = post(client, f"{base}{pk}/", {"title": "Final exam", "points": 80}, "patch")
    assert changed.json()["title"] == "Final exam" and changed.json()["points"] == 80
    assert [a["title"] for a in client.get(base).json()] == ["Final exam"]
    Enrollment.objects.create(course=course, user=learner)
    assignment_start(assignment=Assignment.objects.get(pk=pk), user=learner)
    assert client.delete(f"{base}{pk}/").status_code == 400  # worked on: unpublish instead
    practice = post(client, base, {"title": "Drill", "kind": "practice", "practice_count": 5}).json()
    assert client.delete(f"{base}{practice['id']}/").status_code == 204


def test_accommodations(course, instructor, learner):
    client = signed_in(instructor)
    base = f"/api/courses/{course.code}/accommodations/"
    assert post(client, base, {"username": learner.username, "time_multiplier": 1.5}).status_code == 400
    Enrollment.objects.create(course=course, user=learner)
    saved = post(client, base, {"username": learner.username, "time_multiplier": 1.5, "note": "letter"})
    assert saved.status_code == 200 and saved.json()["time_multiplier"] == 1.5
    assert post(client, base, {"username": learner.username, "time_multiplier": 9}).status_code == 400
    assert client.get(base).json()[0]["note"] == "letter"


def test_gradebook_json_csv_override_analysis_and_readiness(course, exam, instructor, learner):
    Enrollment.objects.create(course=course, user=learner)
    attempt = assignment_start(assignment=exam, user=learner)
    assert isinstance(attempt, ExamAttempt)
    for slot in attempt.attempt_items.all():
        exam_save_answer(attempt=attempt, position=slot.position, raw={"choice": "b"})
    exam_submit(attempt=attempt)
    client = signed_in(instructor)
    base = f"/api/courses/{course.code}"
    book = client.get(f"{base}/gradebook/").json()
    assert book["assignments"][0]["title"] == "Midterm"
    assert book["rows"][0]["username"] == learner.username
    assert book["rows"][0]["cells"][0]["percent"] == 100.0
    assert set(book["domains"]) == {"networking", "dicomweb"}
    override = post(client, f"{base}/overrides/", {"username": learner.username, "assignment": exam.pk,
                                                   "percent": 90, "reason": "regrade"})  # fmt: skip
    assert override.status_code == 201
    assert client.get(f"{base}/gradebook/").json()["rows"][0]["cells"][0] == {
        "assignment": exam.pk,
        "percent": 90.0,
        "attempts": 1,
        "overridden": True,
        "score": "",
        "status": "",
    }
    csv_response = client.get(f"{base}/gradebook.csv")
    assert csv_response["Content-Type"].startswith("text/csv")
    assert csv_response.content.decode().splitlines()[1].startswith(f"{learner.username},{learner.email},90")
    analysis = client.get(f"{base}/assignments/{exam.pk}/item-analysis/").json()
    assert analysis["attempts"] == 1 and len(analysis["items"]) == 5
    assert {"facility", "discrimination", "point_biserial", "options", "flags"} <= set(analysis["items"][0])
    readiness = client.get(f"{base}/readiness/").json()
    assert {d["code"] for d in readiness["domains"]} >= {"networking", "dicomweb"}
    assert readiness["at_risk"][0]["username"] == learner.username


def test_another_instructor_cannot_see_this_courses_learners_or_grades(course, exam, learner):
    Enrollment.objects.create(course=course, user=learner)
    other = signed_in(InstructorFactory.create(username="other-prof"))
    for url in (f"/api/courses/{course.code}/enrollments/", f"/api/courses/{course.code}/gradebook/"):
        response = other.get(url)
        assert response.status_code == 404
        assert learner.username not in response.content.decode()


def test_a_code_holding_a_nul_byte_is_a_400_not_a_server_error(bank, instructor, learner):  # noqa: F811
    """PostgreSQL refuses to compare text holding NUL; the API answers "does not exist" (found by the API fuzzer)."""
    teacher = signed_in(instructor)
    made = post(teacher, "/api/courses/", {"title": "T", "code": "t-1", "track": "CD\x00IP"})
    assert made.status_code == 400
    assert "track" in made.json()
    practice = post(signed_in(learner), "/api/practice/sessions/", {"track": "\x00"})
    assert practice.status_code == 400
    assert "track" in practice.json()
    assert not Course.objects.filter(code="t-1").exists()

"""Instructors: their own labs uploaded (validated with located errors, stored, merged into the catalogue,
bundled slugs protected) and their courses' learners' lab attempts."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from labs.grading import services
from labs.grading.models import CheckResult, GradingRun, LabAttempt, RunStatus, UploadedLab
from labs.scenarios.loader import LabFileError, lab_get
from tests.conftest import signed_in
from tests.factories import InstructorFactory
from trainer.bank.models import Track
from trainer.bank.services import tracks_load
from trainer.courses.models import CourseRole, Enrollment
from trainer.courses.services import course_create

ECHO_FILE = Path(__file__).resolve().parents[3] / "fixtures" / "labs" / "verify-connectivity-echo.yaml"


def own_lab(slug: str = "my-echo-lab", title: str = "My echo lab") -> str:
    text = ECHO_FILE.read_text(encoding="utf-8")
    return text.replace("slug: verify-connectivity-echo", f"slug: {slug}").replace(
        "title: Verify connectivity with C-ECHO", f"title: {title}"
    )


def upload(client, text: str, name: str = "lab.yaml"):
    return client.post("/labs/teach/", {"file": SimpleUploadedFile(name, text.encode(), "text/yaml")})


def test_an_uploaded_lab_joins_the_catalogue_and_can_be_started(instructor, learner, no_grading):
    assert "title: Verify connectivity with C-ECHO" in ECHO_FILE.read_text(encoding="utf-8")
    response = upload(signed_in(instructor), own_lab())
    assert response.status_code == 302
    assert UploadedLab.objects.get().uploaded_by == instructor
    client = signed_in(learner)
    assert "My echo lab" in client.get("/labs/").content.decode()
    assert "my-echo-lab" in {lab["slug"] for lab in client.get("/api/labs/").json()}
    attempt = client.post("/api/labs/my-echo-lab/start/").json()
    assert attempt["node"]["ae_title"] == "ECHO_PACS" and attempt["max_score"] == 3
    assert client.post(f"/api/labs/attempts/{attempt['id']}/check/").status_code == 202
    # the same instructor replaces it; the catalogue shows the new version at once
    assert upload(signed_in(instructor), own_lab(title="My echo lab, v2")).status_code == 302
    assert lab_get("my-echo-lab").title == "My echo lab, v2" and UploadedLab.objects.count() == 1


def test_a_bad_lab_file_is_refused_with_the_place_of_each_error_and_nothing_is_stored(instructor):
    bad = own_lab().replace("check: echo_succeeded_from", "check: echo_suceeded").replace("points: 2", "points: 500")
    response = upload(signed_in(instructor), bad, name="mine.yaml")
    page = response.content.decode()
    assert response.status_code == 400 and "The lab was not saved" in page
    assert "mine.yaml: tasks.0.checks.1.points: Input should be less than or equal to 100" in page
    assert UploadedLab.objects.count() == 0
    assert upload(signed_in(instructor), "slug: [unclosed").status_code == 400
    assert "not valid YAML" in upload(signed_in(instructor), "slug: [unclosed").content.decode()


def test_bundled_and_other_instructors_slugs_are_protected(instructor):
    with pytest.raises(LabFileError, match="ships with the platform"):
        services.uploaded_lab_save(by=instructor, text=ECHO_FILE.read_text(encoding="utf-8"))
    with pytest.raises(LabFileError, match="ships with the platform"):
        services.uploaded_lab_save(by=instructor, text=own_lab(slug="teach"))  # would shadow a page
    services.uploaded_lab_save(by=instructor, text=own_lab())
    rival = InstructorFactory.create(username="rival")
    with pytest.raises(LabFileError, match="uploaded lab of"):
        services.uploaded_lab_save(by=rival, text=own_lab(title="Hijacked"))
    assert lab_get("my-echo-lab").title == "My echo lab"
    assert lab_get("verify-connectivity-echo").title == "Verify connectivity with C-ECHO"


def test_an_instructor_deletes_an_unused_uploaded_lab_but_not_one_attempted_or_assigned(instructor, learner):
    from trainer.bank.models import Track
    from trainer.courses.models import Assignment, AssignmentKind
    from trainer.courses.services import course_create

    client = signed_in(instructor)
    for slug in ("unused-lab", "tried-lab", "assigned-lab"):
        assert upload(client, own_lab(slug=slug, title=slug)).status_code == 302
    LabAttempt.objects.create(learner=learner, lab_slug="tried-lab")
    track, _ = Track.objects.get_or_create(code="CDIP", defaults={"name": "CDIP"})
    course = course_create(by=instructor, title="Course", code="lab-course", track=track)
    Assignment.objects.create(course=course, title="Lab", kind=AssignmentKind.LAB, lab_slug="assigned-lab")
    assert 'action="/labs/teach/labs/unused-lab/delete/"' in client.get("/labs/teach/").content.decode()
    page = client.post("/labs/teach/labs/unused-lab/delete/", follow=True).content.decode()
    assert "Lab “unused-lab” deleted." in page
    assert signed_in(learner).get("/labs/unused-lab/").status_code == 404  # gone from the catalogue
    page = client.post("/labs/teach/labs/tried-lab/delete/", follow=True).content.decode()
    assert "has learners&#x27; attempts" in page
    page = client.post("/labs/teach/labs/assigned-lab/delete/", follow=True).content.decode()
    assert "is assigned in lab-course" in page
    assert set(UploadedLab.objects.values_list("slug", flat=True)) == {"tried-lab", "assigned-lab"}
    rival = InstructorFactory.create(username="rival-2")
    assert signed_in(rival).post("/labs/teach/labs/tried-lab/delete/").status_code == 404  # not theirs


def test_learners_cannot_upload(learner):
    assert upload(signed_in(learner), own_lab()).status_code == 403
    assert UploadedLab.objects.count() == 0


def test_teachers_see_their_learners_attempts_with_per_check_results(instructor, learner, other_learner):
    tracks_load()
    course = course_create(by=instructor, title="PACS 101", code="pacs-101", track=Track.objects.get(code="CDIP"))
    Enrollment.objects.create(course=course, user=learner, role=CourseRole.LEARNER)
    mine = LabAttempt.objects.create(learner=learner, lab_slug="verify-connectivity-echo", best_score=1, max_score=3)
    run = GradingRun.objects.create(attempt=mine, status=RunStatus.DONE, score=1, max_score=3, total_checks=2)
    CheckResult.objects.create(run=run, order=1, name="association_seen", passed=True, points=1, max_points=1,
                               evidence="Association from LEARNER_SCU accepted")  # fmt: skip
    CheckResult.objects.create(run=run, order=2, name="echo_succeeded_from", passed=False, max_points=2,
                               evidence="No C-ECHO", hint="Send a C-ECHO")  # fmt: skip
    outsider = LabAttempt.objects.create(learner=other_learner, lab_slug="verify-connectivity-echo")
    teacher = signed_in(instructor)
    page = teacher.get("/labs/teach/courses/pacs-101/").content.decode()
    assert "Verify connectivity with C-ECHO" in page and learner.username in page and "1/3" in page
    assert other_learner.username not in page  # not in the course
    detail = teacher.get(f"/labs/teach/attempts/{mine.pk}/").content.decode()
    assert "Association from LEARNER_SCU accepted" in detail and "Hint: Send a C-ECHO" in detail
    assert teacher.get(f"/labs/teach/attempts/{outsider.pk}/").status_code == 404
    rival = signed_in(InstructorFactory.create(username="rival"))
    assert rival.get("/labs/teach/courses/pacs-101/").status_code == 404
    assert rival.get(f"/labs/teach/attempts/{mine.pk}/").status_code == 404
    assert signed_in(learner).get(f"/labs/teach/attempts/{mine.pk}/").status_code == 403


@pytest.fixture
def no_grading(monkeypatch):
    from labs.grading import tasks

    monkeypatch.setattr(tasks.grade, "delay", lambda run_id: None)


def test_an_uploaded_lab_can_be_assigned_in_a_course(instructor):
    tracks_load()
    course = course_create(by=instructor, title="PACS 101", code="pacs-101", track=Track.objects.get(code="CDIP"))
    services.uploaded_lab_save(by=instructor, text=own_lab())
    page = signed_in(instructor).get(f"/courses/{course.code}/").content.decode()
    assert '<option value="my-echo-lab">My echo lab</option>' in page

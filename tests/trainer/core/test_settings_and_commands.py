"""Production mode refuses unsafe configuration; the launcher and demo commands fail clearly."""

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

ROOT = Path(__file__).resolve().parents[3]
GOOD_KEY = "k" * 20 + "Q7x!pZ2@rT9#vW4$" + "m" * 20


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    unset = {"SECRET_KEY", "TRAINER_ENV", "DEBUG", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def test_production_mode_refuses_the_default_secret_key():
    result = run_manage("check", TRAINER_ENV="production", ALLOWED_HOSTS="pacs.example.org")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_mode_refuses_debug_and_missing_hosts():
    debug = run_manage("check", TRAINER_ENV="production", SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="x.org", DEBUG="1")
    assert debug.returncode != 0
    assert "DEBUG must be off" in debug.stderr
    hosts = run_manage("check", TRAINER_ENV="production", SECRET_KEY=GOOD_KEY)
    assert hosts.returncode != 0
    assert "ALLOWED_HOSTS" in hosts.stderr


def test_check_deploy_is_clean_in_production_mode():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        TRAINER_ENV="production",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="pacs.example.org",
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_demo_content_is_refused_in_production_mode():
    result = run_manage("demo_content", TRAINER_ENV="production", SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="x.org")
    assert result.returncode != 0
    assert "never created in production" in result.stderr


@pytest.mark.django_db
def test_demo_content_creates_the_demo_accounts_stated_in_the_readme():
    from tests.conftest import can_sign_in

    call_command("demo_content")
    call_command("demo_content")  # idempotent
    readme = (ROOT / "README.md").read_text()
    for username, password in (("learner", "learn-dicom-2026"), ("instructor", "teach-dicom-2026")):
        assert f"`{username}`" in readme
        assert f"`{password}`" in readme
        assert can_sign_in(username, password)


def test_the_launcher_names_a_taken_port_and_how_to_choose_another():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(CommandError) as exc:
            call_command("launch", "--port", str(port))
    message = str(exc.value)
    assert f"127.0.0.1:{port} is already in use" in message
    assert "PORT=" in message


@pytest.mark.django_db
def test_a_production_site_loads_the_tracks_blueprints_and_bundled_bank(settings, capsys):
    from trainer.bank.models import Blueprint, Item, Track
    from trainer.courses.forms import CourseForm

    settings.PRODUCTION = True  # unlike demo_content, this is what a real site runs once after migrate
    call_command("bank_load_bundled")
    first = capsys.readouterr().out
    assert re.search(r"imported \d+ items: [1-9]\d* new", first), first
    assert set(Track.objects.values_list("code", flat=True)) == {"CIIP", "CPAS-T", "CPAS-C", "CDIP", "CPSA"}
    assert Blueprint.objects.exists() and Item.objects.exists()
    items = Item.objects.count()
    call_command("bank_load_bundled")  # again: nothing changes
    assert ", 0 changed" in capsys.readouterr().out and Item.objects.count() == items
    assert "CDIP" in str(CourseForm()["track"])  # an instructor can now create a course for any track


@pytest.mark.django_db
def test_the_demo_course_gives_an_instructor_a_gradebook_with_a_spread_of_results():
    from tests.conftest import signed_in
    from trainer.accounts.models import User
    from trainer.courses.models import Course
    from trainer.exams.models import ExamAttempt

    call_command("demo_content")
    course = Course.objects.get(code="demo-ciip")
    book = signed_in(User.objects.get(username="instructor")).get(f"/api/courses/{course.code}/gradebook/").json()
    exam = [r["cells"][0]["percent"] for r in book["rows"] if r["username"].startswith("demo-learner-")]
    assert len(exam) == 12 and all(p is not None for p in exam)
    assert max(exam) - min(exam) >= 20  # a cohort, not twelve copies of one learner
    assert not ExamAttempt.objects.filter(learner__username="learner").exists()  # the demo learner starts fresh
    assert "learner" in {r["username"] for r in book["rows"]}
    assignment = course.assignments.get(kind="exam")
    analysis = (
        signed_in(User.objects.get(username="instructor"))
        .get(f"/api/courses/{course.code}/assignments/{assignment.pk}/item-analysis/")
        .json()
    )
    assert all(i["n"] == 12 for i in analysis["items"])  # one fixed form: every item answered by the cohort
    assert analysis["form"]["alpha"] is not None  # reliability of the fixed form
    call_command("demo_content")  # run again: the course is kept, not doubled
    assert Course.objects.filter(code="demo-ciip").count() == 1
    assert ExamAttempt.objects.filter(assignment__course=course).count() == 12

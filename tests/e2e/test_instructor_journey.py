"""An instructor creates a course, imports a GIFT file into the bank (dry run, then import), assigns a mock exam
and a lab, a learner joins with the invite code and sits the exam, and the instructor reads the gradebook and
exports it as CSV — in a real browser."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import OffsiteRequests, axe_audit, shot
from tests.e2e.test_lab_journey import sign_in
from tests.factories import InstructorFactory, UserFactory
from trainer.accounts.models import User
from trainer.bank.models import Item, ItemStatus

pytestmark = [pytest.mark.e2e]

GIFT = """\
// Three items for the networking domain of CDIP, written the way Moodle exports GIFT.
$CATEGORY: $course$/top/CDIP/networking

::e2e-echo::Which DIMSE service verifies that two application entities can talk?{
  ~C-FIND#C-FIND is a query.
  =C-ECHO#C-ECHO is the Verification service (PS3.7 §9.1.5).
  ~C-MOVE#C-MOVE retrieves.
  ####Verification uses C-ECHO.
}

::e2e-port::Port 104 is the well-known port for DICOM.{TRUE}

::e2e-called::Which AE title does echoscu's -aec option set?{
  =The called AE title#-aec names the AE being called.
  ~The calling AE title#That is -aet.
  ~The move destination#That is movescu's -aem.
}
"""


@pytest.fixture
def people(transactional_db: None) -> tuple[User, User]:
    return InstructorFactory(username="ines"), UserFactory(username="lena", email="lena@example.org")


def sign_out(page: Page) -> None:
    nav = page.get_by_role("navigation", name="Main")
    nav.locator("summary").last.click()
    nav.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()


def create_assignment(page: Page, *, title: str, kind: str, blueprint: str = "", lab: str = "") -> None:
    page.get_by_text("New assignment").click()
    form = page.locator("form", has=page.get_by_role("button", name="Create assignment"))
    form.get_by_label("Title").fill(title)
    form.get_by_label("Kind").select_option(label=kind)
    if blueprint:
        form.get_by_label("Blueprint").select_option(label=blueprint)
    if lab:
        form.get_by_label(re.compile(r"^Lab:?$")).select_option(label=lab)
    form.get_by_role("button", name="Create assignment").click()
    expect(page.get_by_text(f"Assignment “{title}” created.")).to_be_visible()


def test_instructor_builds_a_course_and_exports_the_gradebook(
    live_server, e2e_bank, people, page: Page, tmp_path: Path, console_errors: list[str]
):
    base = live_server.url
    instructor, learner = people

    # A course of their own.
    sign_in(page, base, instructor.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Courses").click()
    course_form = page.locator("form", has=page.get_by_role("button", name="Create", exact=True))
    course_form.get_by_label("Title").fill("PACS admin evening class")
    course_form.get_by_label("Code").fill("pacs-101")
    course_form.get_by_label("Track").select_option(label="CDIP")
    course_form.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_role("heading", name="PACS admin evening class")).to_be_visible()
    course_url = page.url

    # GIFT import through the bank's import page: a dry run reports, then one click imports.
    gift = tmp_path / "networking.gift.txt"
    gift.write_text(GIFT)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Teach").click()
    page.get_by_role("link", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Import items")).to_be_visible()
    page.get_by_label("File").set_input_files(gift)
    page.get_by_label("Format").select_option("gift")
    expect(page.get_by_label("Dry run first")).to_be_checked()
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("heading", name=re.compile("would import 3 items: 3 new"))).to_be_visible()
    assert not Item.objects.filter(external_id__startswith="e2e-").exists()  # a dry run writes nothing
    shot(page, "bank-import-dry-run")
    page.get_by_role("button", name="Import these 3 items").click()
    expect(page.get_by_role("heading", name=re.compile("imported 3 items: 3 new"))).to_be_visible()
    shot(page, "bank-import-done")
    imported = Item.objects.filter(external_id__in=["e2e-echo", "e2e-port", "e2e-called"])
    assert sorted(imported.values_list("status", flat=True)) == [ItemStatus.DRAFT] * 3  # they go through review

    # A mock exam and a lab, assigned to the course.
    page.goto(course_url)
    create_assignment(page, title="Networking mock exam", kind="Mock exam", blueprint="Test e2e-short")
    create_assignment(page, title="C-ECHO lab", kind="Lab", lab="Verify connectivity with C-ECHO")
    expect(page.get_by_role("row", name=re.compile("Networking mock exam"))).to_contain_text("Mock exam")
    expect(page.get_by_role("row", name=re.compile("C-ECHO lab"))).to_contain_text("Lab")
    invite = page.locator("p", has_text="Invite link").locator("code").last.inner_text()
    shot(page, "course-staff")
    sign_out(page)

    # The learner joins with the code, sees both assignments and sits the exam.
    sign_in(page, base, learner.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Courses").click()
    page.get_by_label("Invite code").fill(invite)
    page.get_by_role("button", name="Join with a code").click()
    expect(page.get_by_text("You joined PACS admin evening class.")).to_be_visible()
    lab_row = page.get_by_role("row", name=re.compile("C-ECHO lab"))
    expect(lab_row.get_by_role("link", name="Open the lab")).to_have_attribute(
        "href", "/labs/verify-connectivity-echo/"
    )
    shot(page, "course-learner")
    page.get_by_role("row", name=re.compile("Networking mock exam")).get_by_role("button").click()
    expect(page.get_by_text("Question 1 of 4")).to_be_visible()
    for n in range(1, 5):
        expect(page.get_by_text(f"Question {n} of 4")).to_be_visible()
        page.wait_for_load_state("load")
        page.get_by_text("B.").click()
        expect(page.get_by_text(re.compile("Saved at"))).to_be_visible()
        page.get_by_role("button", name="Review and submit" if n == 4 else "Next →").click()
    page.get_by_role("button", name="Submit the exam").click()
    expect(page.locator("p.lead strong").first).to_have_text("100.0%")
    sign_out(page)

    # The instructor reads the gradebook and exports it.
    sign_in(page, base, instructor.username)
    page.goto(course_url)
    page.get_by_role("button", name="Gradebook").click()  # a link styled as a button
    expect(page.get_by_role("heading", name=re.compile("^Gradebook"))).to_be_visible()
    row = page.get_by_role("row", name=re.compile("lena"))
    expect(row).to_contain_text("100.0%")
    shot(page, "gradebook")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    assert download.value.suggested_filename == "gradebook-pacs-101.csv"
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    header, lena = rows[0], rows[1]
    assert len(rows) == 2  # one learner: the instructor is not a row
    assert header[:2] == ["username", "email"]
    assert {"Networking mock exam", "C-ECHO lab"} <= set(header)
    assert lena[:2] == ["lena", "lena@example.org"]
    assert lena[header.index("Networking mock exam")] == "100"
    assert lena[header.index("C-ECHO lab")] == ""  # the lab is not done yet
    assert not [e for e in console_errors if "Content Security Policy" in e]


def test_instructor_pages_have_no_serious_accessibility_violations(
    live_server, e2e_bank, people, page: Page, browser: Browser, offsite: OffsiteRequests
):
    base = live_server.url
    instructor, _ = people
    sign_in(page, base, instructor.username)
    page.goto(base + "/courses/")
    course_form = page.locator("form", has=page.get_by_role("button", name="Create", exact=True))
    course_form.get_by_label("Title").fill("Accessible course")
    course_form.get_by_label("Code").fill("a11y-101")
    course_form.get_by_label("Track").select_option(label="CDIP")
    course_form.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_role("heading", name="Accessible course")).to_be_visible()
    cookies = page.context.cookies()
    for path in ("/teach/", "/courses/", "/courses/a11y-101/", "/courses/a11y-101/gradebook/",
                 "/courses/a11y-101/readiness/", "/bank/", "/bank/import/", "/bank/review/"):  # fmt: skip
        assert axe_audit(browser, base + path, cookies, offsite) == [], path

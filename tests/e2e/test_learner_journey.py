"""A learner signs up, picks a track, practises in tutor mode, reviews due items, sits a short mock exam with a
refresh in the middle, and reads the score report — in a real browser, keyboard included."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, Route, expect

from tests.e2e.conftest import OffsiteRequests, axe_audit, shot
from trainer.exams.models import AttemptItem
from trainer.practice.models import Card

pytestmark = [pytest.mark.e2e]


def sign_up(page: Page, base: str, username: str = "newtech") -> None:
    page.goto(base + "/accounts/sign-up/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.org")
    page.get_by_label("Exam you are preparing for").select_option("CDIP")
    page.get_by_label(re.compile(r"^Password:?$")).fill("dicom-rocks-2026")
    page.get_by_label("Password confirmation").fill("dicom-rocks-2026")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Your dashboard")).to_be_visible()


def test_learner_practises_reviews_sits_an_exam_and_reads_the_report(
    live_server, e2e_bank, page: Page, browser: Browser, offsite: OffsiteRequests, console_errors: list[str]
):
    base = live_server.url
    sign_up(page, base)
    expect(page.get_by_text("CDIP (PARCA)")).to_be_visible()
    shot(page, "learner-dashboard")

    # Tutor mode: answer with the keyboard, see feedback with the rationale and the reference.
    page.get_by_role("link", name="Practice", exact=True).click()
    page.get_by_label("Questions").fill("2")
    shot(page, "practice-start")
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.get_by_text("Question 1 of 2")).to_be_visible()
    page.wait_for_load_state("load")  # the shortcuts script is deferred
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Not quite")).to_be_visible()
    expect(page.get_by_text("DICOM PS3.7 Annex C")).to_be_visible()
    shot(page, "practice-feedback")
    page.keyboard.press("n")
    expect(page.get_by_text("Question 2 of 2")).to_be_visible()
    page.get_by_text("B.").click()
    page.get_by_role("button", name="Submit answer").click()
    expect(page.get_by_role("heading", name="Correct")).to_be_visible()
    page.get_by_role("button", name="Finish").click()
    expect(page.get_by_role("heading", name="Session complete")).to_be_visible()

    # Spaced review: make the missed card due and review it from the dashboard.
    Card.objects.update(due=timezone.now())
    page.goto(base + "/dashboard/")
    page.get_by_role("button", name="Review now").click()
    expect(page.get_by_text(re.compile(r"Question 1 of \d"))).to_be_visible()

    # Mock exam with a refresh in the middle: the saved answer and the server's deadline survive.
    page.goto(base + "/exams/")
    page.locator("form[action*='e2e-short'] button").click()
    expect(page.get_by_text("Question 1 of 4")).to_be_visible()
    deadline = page.locator("#exam-timer").get_attribute("data-deadline")
    page.get_by_text("B.").click()
    expect(page.get_by_text(re.compile("Saved at"))).to_be_visible()
    page.reload()
    expect(page.locator("input[name=choice][value=b]")).to_be_checked()
    assert page.locator("#exam-timer").get_attribute("data-deadline") == deadline
    shot(page, "exam-question")
    for n in range(2, 5):
        page.get_by_role("button", name="Next →").click()
        expect(page.get_by_text(f"Question {n} of 4")).to_be_visible()
        page.wait_for_load_state("load")
        page.get_by_text("B.").click()
        expect(page.get_by_text(re.compile("Saved at"))).to_be_visible()
    page.get_by_role("button", name="Review and submit").click()
    expect(page.get_by_text("0 unanswered")).to_be_visible()
    page.get_by_role("button", name="Submit the exam").click()
    expect(page.get_by_role("heading", name=re.compile("Score report"))).to_be_visible()
    expect(page.locator("p.lead strong").first).to_have_text("100.0%")
    expect(page.get_by_role("img", name="Percent right per domain")).to_be_visible()
    shot(page, "exam-report")
    assert not [e for e in console_errors if "Content Security Policy" in e]


def test_main_pages_have_no_serious_accessibility_violations(
    live_server, e2e_bank, page: Page, browser: Browser, offsite: OffsiteRequests
):
    base = live_server.url
    for path in ("/", "/accounts/login/", "/accounts/sign-up/"):
        assert axe_audit(browser, base + path, [], offsite) == [], path
    sign_up(page, base, "a11y")
    cookies = page.context.cookies()
    page.goto(base + "/practice/")
    page.get_by_role("button", name="Start", exact=True).click()
    session_url = page.url
    page.goto(base + "/exams/")
    page.locator("form[action*='e2e-short'] button").click()
    exam_url = page.url
    for url in (base + "/dashboard/", base + "/practice/", session_url, base + "/exams/", exam_url,
                base + "/practice/readiness/", base + "/accounts/profile/"):  # fmt: skip
        assert axe_audit(browser, url, cookies, offsite) == [], url


def test_a_choice_made_before_the_page_scripts_load_is_still_saved(live_server, e2e_bank, page: Page):
    """On a slow connection a learner can pick an answer before htmx has loaded; that click must not be lost."""
    base = live_server.url
    sign_up(page, base, "hasty")
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    page.goto(base + "/exams/")
    page.route("**/vendor/htmx-*.js", hold)  # routing also turns the browser's cache off
    page.locator("form[action*='e2e-short'] button").click()
    expect(page.get_by_text("Question 1 of 4")).to_be_visible()
    page.get_by_text("B.").click()
    assert held, "htmx was not held back: the test did not reproduce a slow load"
    assert not AttemptItem.objects.filter(attempt__learner__username="hasty", response__isnull=False).exists()
    for route in held:
        route.continue_()
    expect(page.get_by_text(re.compile("Saved at"))).to_be_visible()
    saved = AttemptItem.objects.get(attempt__learner__username="hasty", position=1)
    assert saved.response == {"choice": "b"}


def test_an_exam_can_be_completed_with_the_keyboard_alone(live_server, e2e_bank, page: Page):
    base = live_server.url
    sign_up(page, base, "keys")
    page.goto(base + "/exams/")
    page.locator("form[action*='e2e-short'] button").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Question 1 of 4")).to_be_visible()
    for n in range(4):
        expect(page.get_by_text(f"Question {n + 1} of 4")).to_be_visible()
        page.wait_for_load_state("load")  # htmx is deferred: let it bind before the first keypress
        radio = page.locator("input[name=choice]").nth(1)
        radio.focus()
        page.keyboard.press("Space")
        expect(page.get_by_text(re.compile("Saved at"))).to_be_visible()
        focused_outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
        assert focused_outline != "none"  # focus is visible
        label = "Review and submit" if n == 3 else "Next →"
        page.get_by_role("button", name=label).focus()
        page.keyboard.press("Enter")
    submit = page.get_by_role("button", name="Submit the exam")
    submit.focus()
    page.keyboard.press("Enter")
    expect(page.locator("p.lead strong").first).to_have_text("100.0%")
    expect(page.locator("#timer-announce")).to_have_count(0)


def test_the_exam_timer_is_announced_politely(live_server, e2e_bank, page: Page):
    base = live_server.url
    sign_up(page, base, "timer")
    page.goto(base + "/exams/")
    page.locator("form[action*='e2e-short'] button").click()
    announce = page.locator("#timer-announce")
    assert announce.get_attribute("aria-live") == "polite"
    assert page.locator("#timer-display").get_attribute("role") == "timer"

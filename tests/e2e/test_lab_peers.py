"""A lab with simulated peers in a real browser: the lab page lists the devices and the modality's console is
reachable, usable and free of serious accessibility violations (axe-core)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from labs.grading import services
from tests.e2e.conftest import OffsiteRequests, axe_audit, shot
from tests.e2e.test_learner_journey import sign_up
from trainer.accounts.models import User

pytestmark = [pytest.mark.e2e]


def test_modality_console_from_the_lab_page(
    live_server, e2e_bank, page: Page, browser: Browser, offsite: OffsiteRequests, settings, tmp_path
):
    settings.NODE_STORAGE_ROOT = tmp_path / "nodes"  # the peers' preloaded studies land here (no node host needed)
    base = live_server.url
    sign_up(page, base, "peers")
    attempt = services.lab_start(learner=User.objects.get(username="peers"), slug="storage-commitment")
    page.goto(base + "/labs/storage-commitment/")
    expect(page.get_by_role("heading", name="Other devices in this lab")).to_be_visible()
    page.get_by_role("link", name="CT_ROOM5 console").click()
    expect(page.get_by_role("heading", name="DICOM settings")).to_be_visible()
    expect(page.get_by_label("Destination AE title")).to_have_value("MAIN_PACS")
    page.get_by_label("Destination port").fill("104")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    expect(page.get_by_label("Destination port")).to_have_value("104")
    shot(page, "lab-modality-console")
    cookies = page.context.cookies()
    for url in (base + "/labs/storage-commitment/", base + f"/labs/attempts/{attempt.pk}/peers/ct/"):
        assert axe_audit(browser, url, cookies, offsite) == [], url

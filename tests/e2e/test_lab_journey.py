"""A learner does graded labs in a real browser: opens the catalogue, starts a lab, reads their node's address off
the page, runs the real DCMTK tools against it (served by a real node host), presses "Check my work", watches the
progress bar fill through htmx polling while a real Celery worker grades, and reads evidence and hints — first
for a wrong attempt, then for the right one."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import NamedTuple

import pytest
from playwright.sync_api import Browser, Page, expect

from labs.nodes.models import Node
from tests.e2e.conftest import OffsiteRequests, axe_audit, shot
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.labs.fixtures import InProcessHost, dcmtk, wait_running
from trainer.accounts.models import User

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


INDENT_JSON = """() => {
  document.querySelectorAll('.json-formatter-container').forEach((e) => e.remove());
  const pre = document.querySelector('pre');
  pre.textContent = JSON.stringify(JSON.parse(pre.textContent), null, 2);
}"""


class NodeAddress(NamedTuple):
    ae_title: str
    host: str
    port: int


def sign_in(page: Page, base: str, username: str, password: str = DEFAULT_PASSWORD) -> None:
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Dashboard")).to_be_visible()


def open_lab(page: Page, title: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Labs").click()
    expect(page.get_by_role("heading", name="Labs", exact=True)).to_be_visible()
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()


def node_address(page: Page) -> NodeAddress:
    """What the learner reads on the lab page: the node's AE title, host and port."""
    node = page.get_by_role("region", name="Your lab node")
    expect(node).to_be_visible()

    def value(term: str) -> str:
        return (
            node.locator("dt", has_text=re.compile(f"^{term}$")).locator("xpath=following-sibling::dd[1]").inner_text()
        )

    return NodeAddress(value("AE title").strip(), value("Host").strip(), int(value("Port")))


def wait_listening(address: NodeAddress) -> None:
    """A learner whose first echoscu came too early simply runs it again; the test waits until the node host
    reports the node running (asking the database, so that no probe connection shows in the node's log)."""
    wait_running(Node.objects.get(port=address.port))


def check_my_work(page: Page, nodehost: InProcessHost) -> None:
    """Press "Check my work" and follow the run page until the worker has written every result."""
    nodehost.flush()  # the association log is written asynchronously; a person takes longer than this to click
    page.get_by_role("button", name="Check my work").click()
    expect(page.get_by_role("heading", name=re.compile("^Checking:"))).to_be_visible()
    progress = page.get_by_role("progressbar")
    expect(progress).to_be_visible()
    # htmx polls the run every second and swaps the fragment until the run is finished.
    expect(page.get_by_text(re.compile(r"Status: (Done|Failed)"))).to_be_visible(timeout=60_000)
    expect(page.get_by_role("progressbar")).to_have_attribute("value", "100")


def results(page: Page) -> list[str]:
    return [t.strip() for t in page.locator("#run li").all_inner_texts()]


@pytest.fixture
def lab_learner(transactional_db: None) -> User:
    return UserFactory(username="lab-lena")


def test_learner_verifies_connectivity_with_echoscu_wrong_then_right(
    live_server, lab_learner, nodehost, celery_worker, page: Page, console_errors: list[str]
):
    base = live_server.url
    sign_in(page, base, lab_learner.username)
    open_lab(page, "Verify connectivity with C-ECHO")
    page.get_by_role("button", name="Start the lab").click()
    address = node_address(page)
    assert address.ae_title == "ECHO_PACS"
    wait_listening(address)
    expect(page.get_by_text(f"echoscu -v -aet LEARNER_SCU -aec {address.ae_title}")).to_be_visible()
    shot(page, "lab-started")

    # Wrong: the called AE title in lower case. The node rejects the association; the check explains why.
    wrong = dcmtk("echoscu", "-aet", "LEARNER_SCU", "-aec", address.ae_title.lower(), address.host, str(address.port))
    assert wrong.returncode != 0 and "Called AE Title Not Recognized" in wrong.stdout
    check_my_work(page, nodehost)
    expect(page.get_by_text("score 0/3")).to_be_visible()
    first = results(page)
    assert len(first) == 2 and all(r.startswith("fail") for r in first), first
    expect(
        page.get_by_text(re.compile(r"Hint: The node only accepts associations addressed to its own AE"))
    ).to_be_visible()
    shot(page, "lab-check-hint")

    # The node's association log tells the same story, in the learner's console.
    page.get_by_role("link", name="Back to the lab").click()
    page.get_by_role("link", name="Open the node's console").click()
    page.get_by_role("link", name="Association log").click()
    rejected = page.get_by_role("row", name=re.compile("echo_pacs"))
    expect(rejected).to_contain_text("rejected")
    expect(rejected).to_contain_text("Called AE Title Not Recognized")
    shot(page, "node-association-log")

    # Right: the exact AE title. Back on the lab page the first run is listed; a new check passes everything.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Labs").click()
    page.get_by_role("link", name="Verify connectivity with C-ECHO").click()
    expect(page.get_by_role("region", name="Your runs").get_by_role("row")).to_have_count(2)  # header + 1 run
    right = dcmtk("echoscu", "-v", "-aet", "LEARNER_SCU", "-aec", address.ae_title, address.host, str(address.port))
    assert right.returncode == 0, right.stdout
    check_my_work(page, nodehost)
    expect(page.get_by_text("score 3/3")).to_be_visible()
    second = results(page)
    assert all(r.startswith("pass") for r in second), second
    expect(page.get_by_text("0x0000 Success (PS3.7 §9.1.5)")).to_be_visible()
    expect(page.get_by_text(re.compile("^Hint:"))).to_have_count(0)
    shot(page, "lab-check-passed")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Labs").click()
    lab_row = page.get_by_role("row", name=re.compile("Verify connectivity with C-ECHO"))
    expect(lab_row).to_contain_text("3/3")
    assert not [e for e in console_errors if "Content Security Policy" in e]


def test_learner_stores_a_study_with_storescu_partial_then_whole(
    live_server, lab_learner, nodehost, celery_worker, page: Page, tmp_path: Path
):
    base = live_server.url
    sign_in(page, base, lab_learner.username)
    open_lab(page, "Store a study")
    page.get_by_role("button", name="Start the lab").click()
    address = node_address(page)
    wait_listening(address)

    # The study comes from the lab page, as a zip, like a learner downloads it.
    studies = page.get_by_role("region", name="Studies for this lab")
    expect(studies).to_contain_text("already on your node")  # the preloaded prior
    with page.expect_download() as download:
        studies.get_by_role("link", name="ct-chest.zip").click()
    archive = tmp_path / "ct-chest.zip"
    download.value.save_as(archive)
    with zipfile.ZipFile(archive) as z:
        z.extractall(tmp_path)
    folder = tmp_path / "ct-chest"
    files = sorted(folder.glob("*.dcm"))
    assert len(files) == 4  # 2 series × 2 images
    shot(page, "lab-store-started")

    # Wrong: one file only. Partial credit, and the hint says to send the whole folder.
    common = ["-aet", "LEARNER_SCU", "-aec", address.ae_title, address.host, str(address.port)]
    assert dcmtk("storescu", *common, str(files[0])).returncode == 0
    check_my_work(page, nodehost)
    expect(page.get_by_text("score 2/5")).to_be_visible()
    expect(page.get_by_text(re.compile(r"1 of 4 instances of study .* are stored"))).to_be_visible()
    expect(page.get_by_text(re.compile("Hint: Some instances are missing; send the whole folder"))).to_be_visible()

    # Right: the whole folder on one association.
    page.get_by_role("link", name="Back to the lab").click()
    assert dcmtk("storescu", *common, "+sd", str(folder)).returncode == 0
    check_my_work(page, nodehost)
    expect(page.get_by_text("score 5/5")).to_be_visible()
    expect(page.get_by_text(re.compile(r"All 4 instances of study .* are stored with matching UIDs"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"The instance of study .* is stored"))).to_be_visible()  # the prior, kept
    assert all(r.startswith("pass") for r in results(page))
    shot(page, "lab-store-passed")


def test_lab_pages_have_no_serious_accessibility_violations(
    live_server, lab_learner, nodehost, celery_worker, page: Page, browser: Browser, offsite: OffsiteRequests
):
    base = live_server.url
    sign_in(page, base, lab_learner.username)
    cookies = page.context.cookies()
    open_lab(page, "Verify connectivity with C-ECHO")
    before_start = page.url
    assert axe_audit(browser, base + "/labs/", cookies, offsite) == []
    assert axe_audit(browser, before_start, cookies, offsite) == [], before_start
    page.get_by_role("button", name="Start the lab").click()
    wait_listening(node_address(page))
    started = page.url
    page.get_by_role("link", name="Open the node's console").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    console = page.url
    page.goto(started)
    check_my_work(page, nodehost)
    run = page.url
    for url in (started, console, run):
        assert axe_audit(browser, url, cookies, offsite) == [], url

    # What an operator's probe sees with the database, Redis and a node host running (for the operators' guide).
    response = page.goto(base + "/health/")
    assert response is not None and response.status == 200
    report = response.json()
    assert report["status"] == "ok" and set(report["components"]) == {"database", "broker", "nodehost"}
    assert "running 1 nodes" in report["components"]["nodehost"]["detail"]
    page.evaluate(INDENT_JSON)  # the same response, indented for the reader of the guide
    page.set_viewport_size({"width": 900, "height": 380})
    shot(page, "operator-health")

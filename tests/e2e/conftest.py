"""Browser tests: Playwright drives Debian's Chromium (Playwright cannot download its own browser here) against
pytest-django's live server. Any request to another host fails the test: pages must work on a closed network."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request, Route, sync_playwright

from tests.labs.fixtures import node_settings, nodehost  # noqa: F401 - fixtures for the lab journeys
from tests.trainer.exams.conftest import make_blueprint
from tests.trainer.practice.conftest import single_item
from trainer.bank.services import bank_import, blueprints_load, tracks_load

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE = ROOT / "var" / "e2e" / "package" / "axe.min.js"
SHOTS = ROOT / "docs" / "screenshots"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


@pytest.fixture(scope="module", autouse=True)
def _allow_orm_beside_playwright() -> Iterator[None]:
    """Playwright's sync API runs an event loop in the tests' thread; the tests' own ORM calls (and the live
    server's database flush at teardown) are safe. Module-scoped so it outlives every function-level teardown."""
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if before is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Module-scoped: Playwright's event loop must stop before other tests use the ORM in this thread."""
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )  # fmt: skip
        yield b
        b.close()


class OffsiteRequests(list[str]):
    pass


@pytest.fixture
def offsite() -> OffsiteRequests:
    return OffsiteRequests()


def _context(browser: Browser, offsite: OffsiteRequests, *, bypass_csp: bool) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=bypass_csp)

    def guard(route: Route, request: Request) -> None:
        host = urlparse(request.url).hostname or ""
        if request.url.startswith(("data:", "blob:", "about:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            offsite.append(request.url)
            route.abort()

    context.route("**/*", guard)
    return context


@pytest.fixture
def console_errors() -> list[str]:
    return []


@pytest.fixture
def page(browser: Browser, offsite: OffsiteRequests, console_errors: list[str]) -> Iterator[Page]:
    """A page with the site's real CSP in force; console errors (e.g. CSP violations) are collected."""
    context = _context(browser, offsite, bypass_csp=False)
    pg = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(message.text)

    pg.on("console", on_console)
    yield pg
    context.close()
    assert not offsite, f"requests left the machine: {offsite}"


def axe_audit(browser: Browser, url: str, cookies: list[Any], offsite: OffsiteRequests) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on ``url`` (axe is injected, so this context bypasses the CSP)."""
    assert AXE.exists(), f"axe-core missing at {AXE}: run .ci/services.sh (it fetches it from npm)"
    context = _context(browser, offsite, bypass_csp=True)
    context.add_cookies(cookies)
    pg = context.new_page()
    pg.goto(url)
    pg.add_script_tag(content=AXE.read_text())
    result = pg.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    context.close()
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def shot(page: Page, name: str) -> None:
    """Screenshots for the user guides in docs/ (kept current by these tests)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def e2e_bank(transactional_db: None) -> None:
    tracks_load()
    blueprints_load()
    bank_import(items=[single_item(n, d) for d in ("networking", "dicomweb") for n in range(8)])
    make_blueprint("e2e-short", {"networking": 2, "dicomweb": 2}, pilot=0, minutes=20)

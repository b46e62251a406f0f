"""Headless Chromium (Debian's package) driven by Playwright, for the dashboard's
end-to-end tests: a page per test module, a screenshot of every step kept under
the module's artifacts directory."""
from __future__ import annotations

import os
import re
import shutil
import time
from typing import Any, Iterator

import pytest

CHROMIUM = os.environ.get("STRATUS_CHROMIUM", "/usr/bin/chromium")
# Without these, Chromium calls home at start and this machine's closed network
# refuses it many times over.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


def chromium_page(artifacts: str) -> Iterator[Any]:
    """A Playwright page in a fresh headless Chromium; traces go to ``artifacts``."""
    if not os.path.exists(CHROMIUM) and not shutil.which("chromium"):
        pytest.fail("no Chromium at %s: apt-get install chromium (.ci/run does)" % CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900},
                                      accept_downloads=True)
        context.set_default_timeout(30_000)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        try:
            yield page
        finally:
            context.close()
            browser.close()
        assert not errors, "JavaScript errors on the pages: %s" % errors


class Steps:
    """Numbered screenshots of each page the test sees."""

    def __init__(self, page: Any, artifacts: str, prefix: str) -> None:
        self.page = page
        self.dir = artifacts
        self.prefix = prefix
        self.count = 0

    def shot(self, name: str) -> str:
        self.count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        path = os.path.join(self.dir, "%s-%02d-%s.png" % (self.prefix, self.count, slug))
        self.page.screenshot(path=path, full_page=True)
        return path


def login(page: Any, url: str, user: str, password: str) -> None:
    page.goto(url + "/auth/login/")
    page.fill("#id_username", user)
    page.fill("#id_password", password)
    page.click("#login-submit")
    page.wait_for_url(re.compile(r".*/project/overview/$"))


def logout(page: Any) -> None:
    page.click("#logout")
    page.wait_for_url(re.compile(r".*/auth/login/.*"))


def no_error_page(page: Any) -> None:
    body = page.content()
    assert "Traceback" not in body
    assert page.locator(".error-page").count() == 0, page.locator(".error-page").inner_text()


def submit(page: Any) -> None:
    """Submit the panel form; fail with the form's own error when it comes back."""
    page.click("#form-submit")
    page.wait_for_load_state("load")
    errors = page.locator(".form-error, .field .error")
    if page.locator("#panel-form").count() and errors.count():
        raise AssertionError("the form refused: %s" % " | ".join(errors.all_inner_texts()))
    no_error_page(page)


def row_of(page: Any, table: str, text: str) -> Any:
    return page.locator("table#%s tbody tr" % table, has_text=text)


def wait_row_status(page: Any, table: str, text: str, status: str,
                    timeout: float = 300, reload_every: float = 0) -> Any:
    """Wait until the row holding ``text`` shows ``status`` (the rows refresh
    themselves; ``reload_every`` > 0 also reloads the page that often)."""
    deadline = time.monotonic() + timeout
    last_reload = time.monotonic()
    while True:
        row = row_of(page, table, text)
        if row.count() and re.search(r"\b%s\b" % re.escape(status), row.first.inner_text(), re.I):
            return row.first
        if row.count() and re.search(r"\bError\b", row.first.inner_text()):
            raise AssertionError("row %r went to error: %s" % (text, row.first.inner_text()))
        if time.monotonic() > deadline:
            raise AssertionError("row %r not %s within %ss: %s" % (
                text, status, timeout, row.first.inner_text() if row.count() else "(absent)"))
        if reload_every and time.monotonic() - last_reload > reload_every:
            page.reload()
            last_reload = time.monotonic()
        page.wait_for_timeout(1000)


def row_action(page: Any, table: str, text: str, label: str) -> None:
    """Click a row's action (a button or a link); accept its confirmation."""
    page.once("dialog", lambda dialog: dialog.accept())
    row = row_of(page, table, text).first
    button = row.locator("button, a.button", has_text=re.compile(r"^\s*%s\s*$" % re.escape(label)))
    button.first.click()
    page.wait_for_load_state("load")
    no_error_page(page)

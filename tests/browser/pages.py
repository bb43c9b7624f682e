"""Steps the browser tests that serve their own app share: signing in as someone, submitting a task form."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def sign_in(page: Page, base: str, username: str, password: str = "demo123") -> None:
    """Sign in through the login form as ``username``, after signing out whoever was signed in."""
    page.context.clear_cookies()
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def submit_task(page: Page) -> None:
    """Submit the task form and wait for the answer page (the next step must not race the submission)."""
    with page.expect_navigation():
        page.click("#submit-button")
    expect(page.locator("#form-errors")).to_have_count(0)

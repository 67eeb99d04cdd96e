"""Playwright against Debian's chromium, at a phone viewport, against Django's live_server."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

ROOT = Path(__file__).resolve().parents[2]
# Playwright's sync API runs an event loop in the test thread; Django's ORM calls made by
# the test itself (fixtures, assertions) must be allowed there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Keep chromium's profile and caches out of the home directory.
os.environ.setdefault("XDG_CONFIG_HOME", str(ROOT / "var" / "chromium" / "config"))
os.environ.setdefault("XDG_CACHE_HOME", str(ROOT / "var" / "chromium" / "cache"))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 390, "height": 844}
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# The pages' Content-Security-Policy is enforced in every test: this records what it
# blocks (an init script runs before the page's own, and no policy applies to it).
CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`);
});
"""
# axe-core is served as a same-origin script (the policy allows only 'self').
AXE_URL_PATH = "/__tests__/axe.min.js"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def browser(browser):
    """pytest-playwright's browser, whose every new context watches for CSP violations."""
    new_context = browser.new_context

    def watched_context(*args, **kwargs):
        context = new_context(*args, **kwargs)
        context.add_init_script(CSP_WATCH)
        close = context.close

        def close_when_quiet(*close_args, **close_kwargs):
            # A page may still be loading what it asked for after its first paint (the
            # card's sections, htmx on load): closing the browser does not stop the live
            # server's thread answering it, and the database flushed meanwhile for the next
            # test deadlocked with it. Let those requests finish first.
            for open_page in context.pages:
                # A page that never quiets is closed anyway.
                with contextlib.suppress(PlaywrightError):
                    open_page.wait_for_load_state("networkidle", timeout=5_000)
            return close(*close_args, **close_kwargs)

        context.close = close_when_quiet
        return context

    browser.new_context = watched_context
    return browser


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "viewport": PHONE,
        "has_touch": True,
        "is_mobile": True,
        "device_scale_factor": 2,
    }


def pytest_collection_modifyitems(config, items):
    # Everything under tests/browser is a browser test: `-m "not browser"` skips them all.
    for item in items:
        if "tests/browser/" in str(item.path):
            item.add_marker(pytest.mark.browser)


def login(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def csp_violations(page) -> list[str]:
    """What the page's Content-Security-Policy blocked so far (inline scripts or styles,
    scripts from elsewhere...): it must stay empty."""
    return page.evaluate("window.__cspViolations || []")


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core (from npm) in the page; return the violations of the given impacts,
    and anything the Content-Security-Policy blocked (id "csp")."""
    blocked = csp_violations(page)
    if not getattr(page, "_axe_routed", False):
        page.context.route(
            f"**{AXE_URL_PATH}",
            lambda route: route.fulfill(path=str(AXE), content_type="application/javascript"),
        )
        page._axe_routed = True
    page.add_script_tag(url=page.evaluate("location.origin") + AXE_URL_PATH)
    result = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", ["wcag2a", "wcag2aa"]
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in impacts
    ] + [{"id": "csp", "impact": "critical", "nodes": blocked} for _ in blocked[:1]]


def small_touch_targets(
    page, selector: str = "main a, main button, main input, nav a, header button"
) -> list[str]:
    """Interactive elements smaller than 44x44 CSS pixels (WCAG 2.5.5 target size)."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)]
            .filter(el => el.offsetParent !== null && !(el.type === 'hidden'))
            // A checkbox is tapped through its label: the label is the target.
            .map(el => ['checkbox', 'radio'].includes(el.type) && el.closest('label') ? el.closest('label') : el)
            .map(el => [el, el.getBoundingClientRect()])
            .filter(([el, r]) => r.height < 44 || (r.width < 44 && el.tagName !== 'INPUT'))
            .map(([el, r]) => `${el.tagName} "${(el.innerText || el.name || '').trim()}" ${r.width}x${r.height}`)""",
        selector,
    )

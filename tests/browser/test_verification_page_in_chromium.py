"""The verification page as a person meets it: headless Chromium against the app served by gunicorn
(config/gunicorn.conf.py), in Chinese and in English, on a desktop and a 360-px phone.

A wrong check digit shows its message next to the number, tied to it for screen readers and
focused; a valid person lands on the platform's return URL (a real HTTP server on loopback) and
the platform then reads the session `completed` with an account. axe-core (tests/browser's
package-lock.json, injected from the local file) finds no serious or critical violation in any
state. Every state is saved under tests/artifacts/ as PNG for CI to publish.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.integration.test_logs import call, gunicorn
from tests.support.people import resident_id
from tests.support.verification import NOTICE

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE.parent / "artifacts"
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
BROWSER_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars")
SIZES = {"desktop": 1280, "phone": 360}
WATCH_CSP = ("window.__violations = [];"
             "document.addEventListener('securitypolicyviolation',"
             " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));")
VALID_ZH, VALID_EN = resident_id(sequence=21), resident_id(birth=__import__("datetime").date(1985, 3, 9), sequence=22)


def wrong_check_digit(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


class _Platform(http.server.BaseHTTPRequestHandler):
    """The platform's page the person is sent back to."""

    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).seen.append(self.path)
        body = b"<!doctype html><html lang='en'><title>Forum</title><h1>Back on the forum</h1></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@contextmanager
def platform_site() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Platform)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/after-verify"
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def driver(tmp_path):
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the browser check: install Debian's chromium and chromium-driver")
        pytest.skip("chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)")
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci` in tests/browser (.ci/run does)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1500"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH_CSP})
    try:
        yield browser
    finally:
        browser.quit()


def snapshot(driver, name: str) -> None:
    """The page as a desktop and as a 360-px phone shows it, whole."""
    ARTIFACTS.mkdir(exist_ok=True)
    for size, width in SIZES.items():
        metrics = {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": size == "phone"}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": max(height, 600)})
        driver.save_screenshot(str(ARTIFACTS / f"verification-{name}-{size}.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def serious_accessibility_violations(driver) -> list[str]:
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations), e => done(String(e)));")
    assert isinstance(result, list), result
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in result if v["impact"] in ("serious", "critical")]


def no_refusals_in_the_browser(driver) -> None:
    assert driver.execute_script("return window.__violations") == []
    # The page's own status (422 for a refused form, 410 for a spent link) is by design.
    assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"
            and not (e["source"] == "network" and re.match(r"\S+/verify/vs_\w+/\S+ - ", e["message"]))] == []
    resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(driver.current_url))
    assert resources and all(name.startswith(origin) for name in resources), resources


def fill(driver, name: str, number: str, *, type_label: str) -> None:
    from selenium.webdriver.common.by import By

    for field, value in (("real_name", name), ("id_number", number)):
        element = driver.find_element(By.ID, field)
        element.clear()
        element.send_keys(value)
    driver.find_element(By.XPATH, f"//label[normalize-space()='{type_label}']").click()
    consent = driver.find_element(By.ID, "consent")
    if not consent.is_selected():
        driver.find_element(By.CSS_SELECTOR, "label[for=consent]").click()


def submit(driver) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    button = driver.find_element(By.CSS_SELECTOR, "button[type=submit]")
    button.click()
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete"
                                    and not _still(button))


def _still(element) -> bool:
    try:
        element.is_enabled()
        return True
    except Exception:  # stale: the next page has loaded
        return False


def visible_error(driver, field: str) -> tuple[str, str, str]:
    """The message shown for the field, the ids the field names in aria-describedby, and the focused element's id."""
    from selenium.webdriver.common.by import By

    message = driver.find_element(By.ID, f"{field}-error")
    assert message.is_displayed()
    described = driver.find_element(By.ID, field).get_attribute("aria-describedby")
    return message.text, described, driver.execute_script("return document.activeElement.id")


def test_a_person_verifies_on_the_page_in_chinese_and_in_english(settings, platforms, driver):
    from selenium.webdriver.common.by import By

    with platform_site() as return_url:
        platform = platforms.create("示例论坛", return_urls=[return_url], **NOTICE)
        key = platforms.key(platform, ("registrations:write", "accounts:read"))
        with gunicorn(settings) as served:
            def new_session(locale: str) -> tuple[str, str]:
                status, _, created = call(served.base, "POST", "/v1/verification-sessions", key=key,
                                          body={"return_url": return_url, "state": f"st-{locale}", "locale": locale})
                assert status == 201, created
                return created["id"], served.base + urlsplit(created["url"]).path

            outcomes, sessions = {}, []
            for locale, name, number, label, expected in (
                    ("zh-CN", "张三", VALID_ZH, "居民身份证", "最后一位校验码与前面的号码不符：请检查是否输错"),
                    ("en", "Li Lei", VALID_EN, "Resident Identity Card",
                     "The last character does not match the rest of the number: check it for a typing mistake")):
                tag = "zh" if locale == "zh-CN" else "en"
                session_id, page = new_session(locale)
                sessions.append((locale, session_id))
                driver.get(page)
                assert driver.find_element(By.TAG_NAME, "h1").text == ("实名认证" if tag == "zh" else
                                                                       "Verify your identity")
                snapshot(driver, f"{tag}-1-form")
                assert serious_accessibility_violations(driver) == []
                no_refusals_in_the_browser(driver)

                fill(driver, name, wrong_check_digit(number), type_label=label)
                submit(driver)
                text, described, focused = visible_error(driver, "id_number")
                assert text.endswith(expected) and text.startswith("错误：" if tag == "zh" else "Error:")
                assert described.split() == ["id_number-hint", "id_number-error"] and focused == "id_number"
                summary = driver.find_element(By.CSS_SELECTOR, ".error-summary")
                assert summary.is_displayed() and ("出现问题" if tag == "zh" else "There is a problem") in summary.text
                assert driver.find_element(By.ID, "real_name").get_attribute("value") == name  # kept
                assert wrong_check_digit(number) not in driver.title
                snapshot(driver, f"{tag}-2-refused")
                assert serious_accessibility_violations(driver) == []
                no_refusals_in_the_browser(driver)

                fill(driver, name, number, type_label=label)
                submit(driver)
                assert driver.current_url == f"{return_url}?session={session_id}&state=st-{locale}"
                assert driver.find_element(By.TAG_NAME, "h1").text == "Back on the forum"
                snapshot(driver, f"{tag}-3-returned")

                driver.get(page)  # the link is spent
                assert ("您已通过此链接完成实名认证" if tag == "zh" else "You have already verified") in \
                    driver.find_element(By.TAG_NAME, "main").text
                snapshot(driver, f"{tag}-4-link-spent")
                assert serious_accessibility_violations(driver) == []

                status, _, read = call(served.base, "GET", f"/v1/verification-sessions/{session_id}", key=key)
                assert status == 200 and read["status"] == "completed" and read["last_error"] is None
                outcomes[tag] = read["account"]["pseudonym"]
                status, _, account = call(served.base, "GET", f"/v1/accounts/{outcomes[tag]}", key=key)
                assert status == 200 and account["status"] == "active"
    assert len(set(outcomes.values())) == 2
    # the platform heard only the session and its state: no pseudonym, nothing about the person
    assert [path for path in _Platform.seen if path != "/favicon.ico"] == [
        f"/after-verify?session={sid}&state=st-{locale}" for locale, sid in sessions]
    # gunicorn's whole output: the route template, never the page's secret, a name or a number
    assert "/verify/{session_id}/{secret}" in served.output
    for value in ("张三", "Li Lei", VALID_ZH, VALID_EN, wrong_check_digit(VALID_ZH)[:-1]):
        assert value not in served.output, value
    secrets_in_urls = [line for line in served.output.splitlines() if "/verify/vs_" in line]
    assert secrets_in_urls == [], json.dumps(secrets_in_urls)

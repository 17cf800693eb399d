"""GET /docs: Swagger UI from files installed with a Python package, under a strict CSP, checked
in headless Chromium: every operation of the document is listed, nothing is refused, nothing is
fetched from another origin. The screenshot is kept in tests/artifacts/ for CI to publish."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.serving import served

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
METHODS = ("get", "put", "post", "delete", "patch")
BROWSER_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,1600")
# Collected before any page script runs, whatever the page's own CSP says.
WATCH_CSP = ("window.__violations = [];"
             "document.addEventListener('securitypolicyviolation',"
             " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));")


def documented_operations(spec: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in spec["paths"].items() for method in item if method in METHODS}


def test_docs_page_loads_only_its_own_files_under_a_strict_policy(client):
    page = client.get("/docs")
    html = page.get_data(as_text=True)

    assert page.status_code == 200 and page.mimetype == "text/html"
    policy = dict(part.strip().split(" ", 1) for part in page.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'none'" and policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None  # no inline script
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(urlsplit(source).netloc == "" for source in sources), sources
    for source in sources:
        assert client.get(source).status_code == 200, source
    assert client.get("/docs/assets/swagger-ui-bundle.js").headers["Content-Security-Policy"]
    assert client.get("/docs/assets/index.html").status_code == 404  # only the files the page uses


@pytest.mark.slow
def test_docs_page_lists_every_operation_in_headless_chromium(app, client, tmp_path):
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the browser check: install Debian's chromium and chromium-driver")
        pytest.skip("chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    expected = documented_operations(client.get("/openapi.json").get_json())
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH_CSP})
        with served(app) as base_url:
            driver.get(f"{base_url}/docs")
            WebDriverWait(driver, 30).until(
                lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) >= len(expected))
            listed = {(block.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text.upper(),
                       block.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute("data-path"))
                      for block in driver.find_elements(By.CSS_SELECTOR, ".opblock")}
            title = driver.find_element(By.CSS_SELECTOR, ".info .title").text
            ARTIFACTS.mkdir(exist_ok=True)
            driver.save_screenshot(str(ARTIFACTS / "docs.png"))
            # Opened, an operation shows its header parameter, body example and error codes.
            registration = driver.find_element(By.ID, "operations-registrations-createRegistration")
            registration.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
            opened = WebDriverWait(driver, 10).until(
                lambda d: registration.find_element(By.CSS_SELECTOR, ".opblock-body").text)
            driver.save_screenshot(str(ARTIFACTS / "docs-registration.png"))
            violations = driver.execute_script("return window.__violations")
            console = driver.get_log("browser")
            resources = driver.execute_script(
                "return performance.getEntriesByType('resource').map(e => e.name)")
    finally:
        driver.quit()

    assert listed == expected
    for shown in ("Idempotency-Key", "registrations:write", "forum-user-42", "duplicate_identity",
                  "idempotency_key_reused", "Retry-After"):
        assert shown in opened, shown
    assert "Identity service" in title
    assert violations == []
    assert [entry for entry in console if entry["level"] == "SEVERE"] == []
    assert resources and all(name.startswith(base_url) for name in resources), resources

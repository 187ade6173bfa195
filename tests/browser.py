"""Headless Chromium for the browser tests: one way to start it, one rule for skipping.

`needs_chromium` skips a test on a developer machine without Chromium or its driver (CI
installs them, see .ci/run, and never skips). `chromium(...)` starts the browser; with
`offline=True` nothing outside this machine resolves, so a page that needs the internet
breaks as it would on a server without access.
"""

import os
import shutil
from contextlib import contextmanager

import pytest

CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

needs_chromium = pytest.mark.skipif(
    (not CHROMEDRIVER or not CHROMIUM) and not os.environ.get("CI"),
    reason="needs chromium and chromedriver (apt-get install chromium chromium-driver)",
)


@contextmanager
def chromium(*, height: int = 1600, offline: bool = False, console_log: bool = False):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--window-size=1280,{height}"]
    if offline:
        arguments.append("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, "
                         "EXCLUDE 127.0.0.1")
    for argument in arguments:
        options.add_argument(argument)
    if console_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()

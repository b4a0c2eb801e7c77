"""Headless Debian Chromium driven by selenium, for screenshots and browser tests.

Loopback only: the flags keep Chromium from calling Google's services, which this
machine could not reach anyway.
"""

from __future__ import annotations

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1440,960", "--lang=en-US",
)


def new_browser(chromium: str = CHROMIUM, chromedriver: str = CHROMEDRIVER):
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(chromedriver), options=options)


def wait_for(browser, css: str, timeout: float = 60, clickable: bool = False):
    condition = (expected_conditions.element_to_be_clickable if clickable
                 else expected_conditions.presence_of_element_located)
    return WebDriverWait(browser, timeout).until(condition((By.CSS_SELECTOR, css)))


def log_in(browser, url: str, db: str, login: str, password: str) -> None:
    browser.get(f"{url}/web/login?db={db}")
    wait_for(browser, "#login", clickable=True).send_keys(login)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form.oe_login_form button[type=submit]").click()
    wait_for(browser, ".o_main_navbar")

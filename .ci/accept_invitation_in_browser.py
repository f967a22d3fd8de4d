"""An invited user gets in through a real browser.

Against a running `staffroom serve --demo`: the demo administrator creates a user without
a password (which emails an invitation), the link is read from `staffroom mail list`
(same database: STAFFROOM_DATABASE_URL / STAFFROOM_DATA_DIR in the environment), headless
Chromium opens it, fills the form and submits it, the page says the password is set, and
the new user logs in through the API with that password.

Usage: accept_invitation_in_browser.py BASE_URL STAFFROOM_BINARY SCREENSHOT.png
"""

import json
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ADMIN = {"email": "admin@demo.staffroom.test", "password": "staffroom-demo"}
CHOSEN = "chosen in a browser 42"


def call(base, method, path, body=None, token=None):
    """Status and JSON body of one API call; HTTP errors are answers, not exceptions."""
    request = urllib.request.Request(base + path, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", "Bearer " + token)
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(request, data, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def invitation_link(staffroom, email):
    """The link of the invitation mailed to `email`, from `staffroom mail list`."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        listed = subprocess.run(
            [staffroom, "mail", "list", "--to", email],
            check=True, capture_output=True, text=True,
        ).stdout
        for line in listed.splitlines():
            for word in json.loads(line)["body"].split():
                if "/accept-invitation?token=" in word:
                    return word
        time.sleep(0.5)
    sys.exit(f"no invitation mailed to {email} within 30 s")


def browser(profile):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=800,700",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def main(base, staffroom, screenshot):
    status, login = call(base, "POST", "/v1/auth/login", ADMIN)
    assert status == 200, (status, login)
    email = f"browser-{uuid.uuid4().hex[:8]}@example.test"
    status, user = call(base, "POST", "/v1/users", {
        "first_name": "Bea", "last_name": "Browser", "email": email, "user_type": "clinical",
    }, login["access_token"])
    assert status == 201 and user["has_password"] is False, (status, user)
    link = invitation_link(staffroom, email)
    print(f"invitation link: {link}")

    with tempfile.TemporaryDirectory() as profile:
        driver = browser(profile)
        try:
            driver.get(link)
            wait = WebDriverWait(driver, 20)
            wait.until(expected_conditions.visibility_of_element_located((By.ID, "password")))
            driver.find_element(By.ID, "password").send_keys(CHOSEN)
            driver.find_element(By.ID, "confirm").send_keys(CHOSEN)
            driver.find_element(By.ID, "submit").click()
            outcome = wait.until(
                expected_conditions.visibility_of_element_located((By.ID, "outcome"))
            )
            driver.save_screenshot(screenshot)
            text = outcome.text
            print(f"the page says: {text}")
            assert "Your password is set" in text and email in text, text
        finally:
            driver.quit()

    status, token = call(base, "POST", "/v1/auth/login", {"email": email, "password": CHOSEN})
    assert status == 200 and token.get("access_token"), (status, token)
    print(f"{email} logged in with the password chosen in the browser")


if __name__ == "__main__":
    main(*sys.argv[1:4])

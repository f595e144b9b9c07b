"""A supporter's whole journey in headless Chromium, against a running `appeal-cli serve`.

Fills the campaign page's form with the keyboard, previews, sends, opens the confirmation link read from the
outbox's .eml (parsed by Python's email package), confirms, waits until the running sender has sent every
letter, then logs into the dashboard. Saves screenshots and prints a JSON summary on standard output.

    journey.py BASE_URL SLUG OUTBOX_DIR ADMIN_SECRET SCREENSHOT_DIR
"""
import email
import email.policy
import glob
import json
import os
import re
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

base, slug, outbox, secret, shots = sys.argv[1:6]
os.makedirs(shots, exist_ok=True)
NOTE = 'Free him now. <script>alert("x")</script>'
EMAIL = "journey@example.com"


def driver():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--lang=en-GB"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise SystemExit(f"journey: timed out waiting for {what}")


def confirmation_link():
    for path in sorted(glob.glob(os.path.join(outbox, "*.eml")), key=os.path.getmtime, reverse=True):
        with open(path, "rb") as handle:
            message = email.message_from_binary_file(handle, policy=email.policy.default)
        if message["To"] and EMAIL in message["To"] and "Confirm" in message["Subject"]:
            match = re.search(r"https?://\S+/confirm/[A-Za-z0-9_-]{43}", message.get_content())
            return match and match.group(0)
    return None


browser = driver()
result = {}
try:
    started = time.monotonic()
    # Windows as tall as the page, so that the screenshots show the form too.
    browser.set_window_size(1280, 2300)
    browser.get(f"{base}/c/{slug}")
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Azerbaijan"), browser.title
    browser.save_screenshot(os.path.join(shots, "campaign-desktop.png"))
    browser.set_window_size(390, 3600)
    browser.get(f"{base}/c/{slug}")
    result["phoneOverflow"] = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    browser.save_screenshot(os.path.join(shots, "campaign-phone.png"))
    browser.set_window_size(1280, 1000)

    # The form with the keyboard only: labels lead to fields, Tab moves on, Space ticks the box.
    browser.find_element(By.CSS_SELECTOR, "label[for=name]").click()
    browser.switch_to.active_element.send_keys("Journey Tester")
    browser.find_element(By.ID, "email").send_keys(EMAIL)
    Select(browser.find_element(By.ID, "country")).select_by_visible_text("France")
    browser.find_element(By.ID, "city").send_keys("Lyon")
    Select(browser.find_element(By.ID, "language")).select_by_value("fr")
    browser.find_element(By.ID, "personal_note").send_keys(NOTE)
    browser.find_element(By.ID, "consent").send_keys(Keys.SPACE)
    browser.switch_to.active_element.send_keys(Keys.TAB)
    result["focusedAfterConsent"] = browser.switch_to.active_element.text
    browser.switch_to.active_element.send_keys(Keys.ENTER)

    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "article.letter"), 10, "the preview")
    letters = browser.find_elements(By.CSS_SELECTOR, "article.letter")
    result["previewLetters"] = len(letters)
    result["noteShownAsText"] = all(NOTE in letter.text for letter in letters)
    result["scriptsInPage"] = len(browser.find_elements(By.TAG_NAME, "script"))
    browser.save_screenshot(os.path.join(shots, "preview.png"))
    browser.find_element(By.XPATH, "//button[text()='Send my letters']").click()
    wait_for(lambda: "Check your email" in browser.page_source, 10, "the check-your-email page")

    link = wait_for(confirmation_link, 20, "the confirmation email in the outbox")
    browser.get(link)
    browser.find_element(By.XPATH, "//button[text()='Yes, send my letters']").click()
    wait_for(lambda: "/letters/" in browser.current_url, 10, "the letters page")
    result["lettersListed"] = len(browser.find_elements(By.CSS_SELECTOR, "article.letter"))

    def all_sent():
        browser.refresh()
        return len(browser.find_elements(By.CSS_SELECTOR, ".status-sent")) == result["lettersListed"]

    wait_for(all_sent, 60, "every letter to be sent")
    result["secondsToSent"] = round(time.monotonic() - started, 1)
    browser.save_screenshot(os.path.join(shots, "letters.png"))

    browser.get(f"{base}/admin")
    browser.find_element(By.ID, "secret").send_keys(secret + Keys.ENTER)
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "a[href='/admin/c/%s']" % slug), 10, "the dashboard")
    browser.find_element(By.CSS_SELECTOR, "a[href='/admin/c/%s']" % slug).click()
    wait_for(lambda: "Letters by status" in browser.page_source, 10, "the campaign's dashboard")
    result["dashboardSent"] = browser.find_element(By.XPATH, "//table[@class='counts']//th[text()='sent']/following-sibling::td").text
    result["chart"] = len(browser.find_elements(By.CSS_SELECTOR, "svg.chart rect"))
    browser.set_window_size(1280, 1900)
    browser.save_screenshot(os.path.join(shots, "dashboard.png"))
    result["consoleErrors"] = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
except BaseException:
    browser.save_screenshot(os.path.join(shots, "failure.png"))
    print(json.dumps(result), file=sys.stderr)
    raise
finally:
    browser.quit()
print(json.dumps(result))

"""What several `appeal-cli serve` processes sharing one database must agree on, driven over HTTP.

    shared_servers.py PROXY_BASE A_BASE B_BASE SLUG OUTBOX_DIR

- Four submissions for one address through the round-robin proxy (so alternately at each server), with
  web.emailsPerAddressPerHour at 2: the first two are taken, the others refused (429), whichever server
  counts them.
- The two confirmation emails, each sent once although both servers' mailers run.
- The first link confirmed at both servers at the same moment: both answer with the letters page, and one
  supporter is created (the caller checks the database).
- The second link withdrawn ("it wasn't me") at one server, then unknown at the other.

Prints a JSON summary on standard output.
"""
import email
import email.policy
import glob
import http.cookiejar
import json
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

proxy, server_a, server_b, slug, outbox = sys.argv[1:6]
ADDRESS = "limit@example.com"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def client():
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect)


def call(opener, url, fields=None):
    data = urllib.parse.urlencode(fields).encode() if fields is not None else None
    try:
        response = opener.open(url, data=data, timeout=30)
        return response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers


def csrf(html):
    return re.search(r'name="csrf_token" value="([^"]*)"', html).group(1)


def confirmation_links():
    links = []
    for path in sorted(glob.glob(os.path.join(outbox, "*.eml"))):
        with open(path, "rb") as handle:
            message = email.message_from_binary_file(handle, policy=email.policy.default)
        if message["To"] and ADDRESS in message["To"] and "Confirm" in message["Subject"]:
            links += re.findall(r"/confirm/([A-Za-z0-9_-]{43})", message.get_content())
    return links


result = {"submitted": []}
for _ in range(4):
    opener = client()
    status, html, _ = call(opener, f"{proxy}/c/{slug}")
    assert status == 200, status
    status, _, headers = call(opener, f"{proxy}/c/{slug}/submit", {
        "name": "Limit Tester", "email": ADDRESS, "country": "FR", "city": "Paris", "language": "en",
        "personal_note": "", "consent": "yes", "csrf_token": csrf(html)})
    result["submitted"].append({"status": status, "server": headers.get("X-Backend")})
    # One more request, so that the next submission is posted at the other server.
    call(opener, f"{proxy}/healthz")

# Both mailers look every second: wait for the two emails, then a while longer for a third that must not come.
deadline = time.monotonic() + 20
while len(confirmation_links()) < 2 and time.monotonic() < deadline:
    time.sleep(0.25)
time.sleep(3)
tokens = confirmation_links()
result["confirmationEmails"] = len(tokens)

first, second = tokens[0], tokens[1]
openers, forms = [], []
for base in (server_a, server_b):
    opener = client()
    status, html, _ = call(opener, f"{base}/confirm/{first}")
    assert status == 200, (base, status)
    openers.append(opener)
    forms.append(csrf(html))
answers = [None, None]


def confirm(index, base):
    status, _, headers = call(openers[index], f"{base}/confirm/{first}", {"csrf_token": forms[index]})
    answers[index] = {"status": status, "location": headers.get("Location")}


threads = [threading.Thread(target=confirm, args=(i, base)) for i, base in enumerate((server_a, server_b))]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
result["confirmed"] = answers
result["firstToken"] = first

opener = client()
status, html, _ = call(opener, f"{server_a}/not-me/{second}")
status, html, _ = call(opener, f"{server_a}/not-me/{second}", {"csrf_token": csrf(html)})
result["withdrawn"] = status
status, _, _ = call(client(), f"{server_b}/confirm/{second}")
result["withdrawnLinkAtOther"] = status
print(json.dumps(result))

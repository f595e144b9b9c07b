"""Parses one message with Python's email package (policy default) and prints what it found as JSON.

An independent parser: what it reads back is what any mail client would.
"""
import json
import sys
from email import policy
from email.parser import BytesParser

def mailboxes(message, name):
    header = message[name]
    if header is None:
        return []
    return [{"name": a.display_name, "address": a.addr_spec} for a in header.addresses]


def parse(path):
    raw = open(path, "rb").read()
    message = BytesParser(policy=policy.default).parsebytes(raw)
    return describe(raw, message)


def describe(raw, message):
    lines = raw.split(b"\r\n")
    return {
        "headerNames": [k for k, _ in message.items()],
        "from": mailboxes(message, "From"),
        "replyTo": mailboxes(message, "Reply-To"),
        "to": mailboxes(message, "To"),
        "cc": mailboxes(message, "Cc"),
        "bcc": mailboxes(message, "Bcc"),
        "subject": str(message["Subject"]),
        "messageId": str(message["Message-ID"]),
        "date": str(message["Date"]),
        "contentType": message.get_content_type(),
        "charset": message.get_content_charset(),
        "body": message.get_content().replace("\r\n", "\n"),  # the wire uses CRLF; the letter uses LF
        "defects": [type(d).__name__ for d in message.defects]
                   + [type(d).__name__ for k in message.keys() for d in message[k].defects],
        "bareLineBreaks": raw.replace(b"\r\n", b"").count(b"\n") + raw.replace(b"\r\n", b"").count(b"\r"),
        "longestLine": max(len(line) for line in lines),
    }


# One file: one JSON object. Several: a JSON list, in the order given.
results = [parse(path) for path in sys.argv[1:]]
print(json.dumps(results[0] if len(results) == 1 else results, ensure_ascii=False))

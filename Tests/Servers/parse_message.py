"""Parses one message with Python's email package (policy default) and prints what it found as JSON.

An independent parser: what it reads back is what any mail client would.
"""
import json
import sys
from email import policy
from email.parser import BytesParser

raw = open(sys.argv[1], "rb").read()
message = BytesParser(policy=policy.default).parsebytes(raw)


def mailboxes(name):
    header = message[name]
    if header is None:
        return []
    return [{"name": a.display_name, "address": a.addr_spec} for a in header.addresses]


lines = raw.split(b"\r\n")
print(json.dumps({
    "headerNames": [k for k, _ in message.items()],
    "from": mailboxes("From"),
    "replyTo": mailboxes("Reply-To"),
    "to": mailboxes("To"),
    "cc": mailboxes("Cc"),
    "bcc": mailboxes("Bcc"),
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
}, ensure_ascii=False))

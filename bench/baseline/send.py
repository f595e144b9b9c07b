"""Baseline for `send`: plain Python smtplib over one connection, reading the queued letters from appeal's
SQLite database and committing each letter's status change. Prints JSON timings.

  send.py DATABASE HOST PORT [LIMIT]
"""
import json
import smtplib
import sqlite3
import sys
import time
from email.message import EmailMessage
from email.utils import formatdate

database, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
limit = int(sys.argv[4]) if len(sys.argv) > 4 else -1
db = sqlite3.connect(database, isolation_level=None)
db.execute("PRAGMA busy_timeout = 10000")
rows = db.execute("""
    SELECT l.id, x.subject, x.body, l.message_id, s.name, s.email, t.name, t.email FROM letter l
    JOIN letter_text x ON x.letter_id = l.id JOIN supporter s ON s.id = l.supporter_id JOIN target t ON t.id = l.target_id
    WHERE l.status = 'queued' ORDER BY l.id LIMIT ?""", (limit,)).fetchall()
started = time.perf_counter()
smtp = smtplib.SMTP(host, port)
sent = 0
for letter_id, subject, body, message_id, name, email, target_name, target_email in rows:
    message = EmailMessage()
    message["Date"] = formatdate()
    message["From"] = f'"{name} via Urgent Appeals" <appeals@example.org>'
    message["Reply-To"] = f'"{name}" <{email}>'
    message["To"] = f'"{target_name}" <{target_email}>'
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message.set_content(body, cte="quoted-printable")
    smtp.send_message(message, from_addr="appeals@example.org", to_addrs=[target_email])
    db.execute("UPDATE letter SET status = 'sent', attempts = attempts + 1, sent_at = datetime('now') WHERE id = ?", (letter_id,))
    sent += 1
smtp.quit()
print(json.dumps({"sent": sent, "seconds": time.perf_counter() - started}))

"""Baseline for `supporter import` + `queue`: plain Python, Jinja2 and sqlite3, one transaction.

Reads the same supporters CSV and targets, renders the same letters (same templates, converted to
Jinja2), and inserts them into a SQLite file in WAL mode. Prints JSON timings.

  queue.py CAMPAIGN_DIR SUPPORTERS_CSV DATABASE
"""
import csv
import datetime
import json
import os
import sqlite3
import sys
import time
import uuid

import jinja2

campaign_dir, supporters_csv, database = sys.argv[1:4]
here = os.path.dirname(os.path.abspath(__file__))
env = jinja2.Environment(loader=jinja2.FileSystemLoader(here), autoescape=False, keep_trailing_newline=True,
                         trim_blocks=True, undefined=jinja2.StrictUndefined)
templates = {lang: (env.get_template(f"subject.{lang}.j2"), env.get_template(f"letter.{lang}.j2")) for lang in ("en", "fr")}
campaign = json.load(open(os.path.join(campaign_dir, "campaign.json")))
targets = list(csv.DictReader(open(os.path.join(campaign_dir, "targets.csv"), encoding="utf-8")))
officials = [t for t in targets if t["kind"] == "official"]
embassies = {t["country"]: t for t in targets if t["kind"] == "embassy"}
today = datetime.date.today()
dates = {"en": today.strftime("%B %-d, %Y"), "fr": f"{today.day} {['janvier','février','mars','avril','mai','juin','juillet','août','septembre','octobre','novembre','décembre'][today.month - 1]} {today.year}"}

if os.path.exists(database):
    os.remove(database)
db = sqlite3.connect(database)
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE supporter (id INTEGER PRIMARY KEY, name TEXT, email TEXT UNIQUE, country TEXT, city TEXT, language TEXT, note TEXT)")
db.execute("""CREATE TABLE letter (id INTEGER PRIMARY KEY, supporter_id INTEGER, target TEXT, language TEXT, subject TEXT, body TEXT,
              message_id TEXT UNIQUE, status TEXT, UNIQUE (supporter_id, target))""")

started = time.perf_counter()
db.execute("BEGIN")
rows = []
for row in csv.DictReader(open(supporters_csv, encoding="utf-8-sig")):
    cursor = db.execute("INSERT INTO supporter (name, email, country, city, language, note) VALUES (?, ?, ?, ?, ?, ?)",
                        (row["name"], row["email"].strip().lower(), row["country"], row["city"], row["language"], row["personal_note"]))
    rows.append((cursor.lastrowid, row))
db.execute("COMMIT")
imported = time.perf_counter()

db.execute("BEGIN")
letters = 0
for supporter_id, row in rows:
    supporter = {"name": row["name"], "email": row["email"], "city": row["city"], "country": row["country"],
                 "countryName": row["country"], "language": row["language"]}
    for target in officials + ([embassies[row["country"]]] if row["country"] in embassies else []):
        lang = row["language"] if row["language"] in templates else "en"
        context = {"supporter": supporter, "campaign": campaign, "personalNote": row["personal_note"], "date": dates[lang],
                   "target": dict(target, isEmbassy=target["kind"] == "embassy", countryName=target["country"])}
        subject, letter = templates[lang]
        db.execute("INSERT INTO letter (supporter_id, target, language, subject, body, message_id, status) VALUES (?, ?, ?, ?, ?, ?, 'queued')",
                   (supporter_id, target["email"], lang, subject.render(context).strip(), letter.render(context),
                    f"<{uuid.uuid4()}@example.org>"))
        letters += 1
db.execute("COMMIT")
queued = time.perf_counter()
print(json.dumps({"supporters": len(rows), "letters": letters, "importSeconds": imported - started, "queueSeconds": queued - imported}))

"""Turns bench/out/results.jsonl into the table printed by bench/run and bench/results.md."""
import datetime
import json
import os
import platform
import subprocess
import sys

results_path, supporters, small, send_letters, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
wide_targets, import_rows = int(sys.argv[6]), int(sys.argv[7])
smoke = "--smoke" in sys.argv
out = os.path.dirname(results_path)
runs = {r["name"]: r for r in map(json.loads, open(results_path))}
baseline = json.load(open(os.path.join(out, "large-baseline.out")))
python_send = json.load(open(os.path.join(out, "send-python.out")))
letters = supporters * 5


def rate(count, seconds):
    return count / seconds if seconds > 0 else float("inf")


def mb(name):
    return runs[name]["rssKB"] / 1024


rows = []


def row(what, appeal, other, ratio, target, met):
    # At smoke size a verdict would mean nothing.
    verdict = "-" if met is None else "not measured at this size" if smoke else "yes" if met else "NO"
    rows.append((what, appeal, other, ratio, target, verdict))


imp = rate(supporters, runs["large-import"]["seconds"])
imp_py = rate(supporters, baseline["importSeconds"])
row(f"supporter import, {supporters:,} supporters", f"{imp:,.0f} supporters/s", f"{imp_py:,.0f} supporters/s (Python csv+sqlite3)",
    f"{imp / imp_py:.2f}x", "-", None)
q = rate(letters, runs["large-queue"]["seconds"])
q_py = rate(letters, baseline["queueSeconds"])
row(f"queue, {letters:,} letters", f"{q:,.0f} letters/s", f"{q_py:,.0f} letters/s (Python Jinja2+sqlite3)", f"{q / q_py:.2f}x", ">= 3x", q / q_py >= 3)
for c in (1, 2, 4):
    s = rate(send_letters, runs[f"send-c{c}"]["seconds"])
    src = rate(send_letters, runs[f"source-c{c}"]["seconds"])
    row(f"send, {send_letters:,} letters, {c} connection{'s' if c > 1 else ''}", f"{s:,.0f} msg/s", f"{src:,.0f} msg/s (smtp-source -s {c})",
        f"{s / src:.2f}x", ">= 0.8x", s / src >= 0.8)
for c in (1, 2, 4):
    s = rate(send_letters, runs[f"send-c{c}"]["seconds"])
    alone = rate(send_letters, runs[f"curl-c{c}"]["seconds"])
    src = rate(send_letters, runs[f"source-c{c}"]["seconds"])
    row(f"libcurl alone, {c} connection{'s' if c > 1 else ''}: the ceiling of send", f"{s:,.0f} msg/s (send)",
        f"{alone:,.0f} msg/s (libcurl, no database; {alone / src:.2f}x smtp-source)", f"{s / alone:.2f}x", "-", None)
s1 = rate(send_letters, runs["send-c1"]["seconds"])
py = rate(python_send["sent"], python_send["seconds"])
row(f"send, {send_letters:,} letters, 1 connection", f"{s1:,.0f} msg/s", f"{py:,.0f} msg/s (Python smtplib, 1 connection)", f"{s1 / py:.2f}x", ">= 3x", s1 / py >= 3)
sqlite2 = rate(send_letters, runs["send-c2"]["seconds"])
for w in (1, 2, 4):
    pg = rate(send_letters, runs[f"pg-send-w{w}"]["seconds"])
    row(f"send from PostgreSQL, {send_letters:,} letters, {w} sender{'s' if w > 1 else ''} x 2 connections", f"{pg:,.0f} msg/s",
        f"{sqlite2:,.0f} msg/s (SQLite, one sender, 2 connections)", f"{pg / sqlite2:.2f}x", ">= 0.7x" if w == 2 else "-",
        pg / sqlite2 >= 0.7 if w == 2 else None)
pg_imp = rate(supporters, runs["pg-import"]["seconds"])
row(f"supporter import on PostgreSQL, {supporters:,} supporters", f"{pg_imp:,.0f} supporters/s", f"{imp:,.0f} supporters/s (SQLite file)",
    f"{pg_imp / imp:.2f}x", "-", None)
pg_q = rate(letters, runs["pg-queue"]["seconds"])
row(f"queue on PostgreSQL, {letters:,} letters", f"{pg_q:,.0f} letters/s", f"{q:,.0f} letters/s (SQLite file)",
    f"{pg_q / q:.2f}x", "-", None)
for name, label, count in (("small-queue", "queue", small * 5), ("large-queue", "queue", letters),
                           ("small-send", "send", small * 5), ("large-send", "send", letters)):
    row(f"peak RSS, {label} at {count:,} letters", f"{mb(name):.0f} MB", "-", "-", "<= 150 MB", mb(name) <= 150)
row(f"peak RSS, queue for {wide_targets:,} targets x 100 supporters", f"{mb('wide-queue'):.0f} MB", "-", "-", "<= 150 MB", mb("wide-queue") <= 150)
row(f"peak RSS, supporter import of {import_rows:,} rows", f"{mb('huge-import'):.0f} MB", "-", "-", "<= 150 MB", mb("huge-import") <= 150)

# CPU per letter of each component of the PostgreSQL runs, to project them onto a host with more cores.
cpu_rows = []
for w in (1, 2, 4):
    c = runs[f"pg-cpu-w{w}"]
    sent = max(1, c["sent"])
    cpu_rows.append((f"{w} sender{'s' if w > 1 else ''}", f"{c['sent']:,}", f"{runs[f'pg-send-w{w}']['cpuSeconds'] * 1e3 / sent:.3f}",
                     f"{c['postgresSeconds'] * 1e3 / sent:.3f}", f"{c['sinkSeconds'] * 1e3 / sent:.3f}"))
cpu_rows.append(("SQLite, 1 sender", f"{send_letters:,}", f"{runs['send-c2']['cpuSeconds'] * 1e3 / send_letters:.3f}", "-", "-"))
for step, count, unit in (("import", supporters, "supporter"), ("queue", letters, "letter")):
    cpu_rows.append((f"{step} on PostgreSQL", f"{count:,} {unit}s", f"{runs[f'pg-{step}']['cpuSeconds'] * 1e3 / count:.3f}",
                     f"{runs[f'pg-cpu-{step}']['postgresSeconds'] * 1e3 / count:.3f}", "-"))
cpu_header = ("run", "count", "appeal-cli, CPU ms per item", "PostgreSQL, CPU ms per item", "smtp-sink, CPU ms per item")
cpu_table = ["| " + " | ".join(cpu_header) + " |", "|" + "---|" * 5] + ["| " + " | ".join(r) + " |" for r in cpu_rows]

header = ("measure", "appeal", "baseline, same run", "ratio", "target", "met")
widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(6)]
lines = ["  ".join(str(v).ljust(w) for v, w in zip(r, widths)) for r in [header] + rows]
print("\n".join(lines))

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
mem = next((l.split(":", 1)[1].strip() for l in open("/proc/meminfo") if l.startswith("MemTotal")), "?")
swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
table = ["| " + " | ".join(header) + " |", "|" + "---|" * 6] + ["| " + " | ".join(str(v) for v in r) + " |" for r in rows]
report = f"""# appeal benchmark results

{"**Smoke run: sizes too small for the figures to mean anything.**" if smoke else ""}

Run by `bench/run` on {datetime.date.today()}: {os.cpu_count()} cores ({cpu}), {mem} memory, {swift}, release build.
Every baseline ran in the same run, on the same machine, against the same data and the same Postfix
`smtp-sink` on 127.0.0.1. Average message size {size:,} bytes (smtp-source `-l`). Wall times and peak RSS
from GNU `time -v`; each figure is one run.

{chr(10).join(table)}

- queue: {letters:,} letters for {supporters:,} supporters in 30 countries (4 officials + 30 embassies),
  rendered from the shipped templates and committed in batches; the baseline renders the same templates
  (converted to Jinja2) into one transaction.
- send: every status change committed to SQLite (WAL) before the run ends; smtp-source sends the same
  count of messages of the same size over the same number of reused connections (`-d`), with no database.
- libcurl alone (`bench/curl_ceiling.c`): the same count of messages of the same size, one reused easy
  handle per connection as `appeal-cli` uses them, one prebuilt message, no database: what `send` could
  reach through libcurl if everything else cost nothing.
- send from PostgreSQL: the same letters copied into a new database of a private PostgreSQL server with its
  durability settings on (fsync, synchronous commits), on the same two cores as the senders and smtp-sink;
  N `send` processes of 2 connections each start at once and share the queue.

CPU per letter of the PostgreSQL runs (user + system; the senders' from GNU `time`, PostgreSQL's and
smtp-sink's from /proc, every backend included). On a host with more cores, the senders' and the server's
shares run in parallel: the throughput of N senders is bounded by the cores divided by these figures.

{chr(10).join(cpu_table)}
"""
analysis = os.path.join(os.path.dirname(out), "analysis.md")
if os.path.exists(analysis):
    report += "\n" + open(analysis).read()
if not smoke:
    open(os.path.join(os.path.dirname(out), "results.md"), "w").write(report)
else:
    open(os.path.join(out, "results-smoke.md"), "w").write(report)

"""Lists the bounce corpus that flufl.bounce (Mailman's bounce detector, Apache License 2.0) ships with its tests.

The corpus is not part of this repository: scripts/setup --tests downloads flufl.bounce's source
distribution from PyPI into .venv/corpus/. This script reads the expected results from its
tests/test_detectors.py (the DETECTORS table: detector, file, failed addresses, temporary?) without
running it, and prints one JSON object per message file:
{"file": PATH, "addresses": [...], "temporary": BOOL}. A file listed twice (two detectors) gets the union.
"""
import ast
import json
import sys
from pathlib import Path

root = Path(sys.argv[1])
tree = ast.parse((root / "tests" / "test_detectors.py").read_text())
table = None
for node in tree.body:
    if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DETECTORS" for t in node.targets):
        table = ast.literal_eval(node.value)
if table is None:
    sys.exit("no DETECTORS table in test_detectors.py")

files = {}
for _detector, name, addresses, temporary in table:
    entry = files.setdefault(name, {"file": str(root / "tests" / "data" / name), "addresses": set(), "temporary": temporary})
    entry["addresses"] |= {a.decode() for a in addresses}
print(json.dumps([{**e, "addresses": sorted(e["addresses"])} for e in files.values()]))

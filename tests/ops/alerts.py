#!/usr/bin/env python3
"""tests/ops/alerts.py SOURCE_DIR — checks deploy/prometheus/banbantong-alerts.yml (CTest
"ops/alerts"): it parses as YAML, has the shape of a Prometheus rule file (groups -> rules with
alert, expr, optional for/labels/annotations; durations like 2m), every alert has a severity and
a bilingual summary, each expression's parentheses and braces balance, and every bbt_* metric an
expression names is documented in docs/METRICS.md (so the file cannot drift from what the relay
exports). promtool (Debian package prometheus, ~96 MB installed) is not required; when it is
present, `promtool check rules` runs too."""
import os, re, shutil, subprocess, sys

import yaml

src = sys.argv[1]
path = os.path.join(src, "deploy/prometheus/banbantong-alerts.yml")
metrics_doc = open(os.path.join(src, "docs/METRICS.md"), encoding="utf-8").read()
documented = set(re.findall(r"`(bbt_[a-z0-9_]+)`", metrics_doc))
doc = yaml.safe_load(open(path, encoding="utf-8"))
errors = []
need = {"BbtRelayDown", "BbtClassroomRed", "BbtPublisherMissingAtLessonStart",
        "BbtViewerRefusalsSpiking"}
seen = set()
assert isinstance(doc, dict) and set(doc) == {"groups"}, "top level must be {groups: [...]}"
for g in doc["groups"]:
    if set(g) - {"name", "rules", "interval"} or not g.get("name") or not g.get("rules"):
        errors.append(f"group {g.get('name')!r}: needs name and rules only")
    for r in g.get("rules", []):
        name = r.get("alert")
        if not name or set(r) - {"alert", "expr", "for", "labels", "annotations"}:
            errors.append(f"rule {r}: unknown keys or no alert name")
            continue
        seen.add(name)
        expr = r.get("expr", "")
        if "for" in r and not re.fullmatch(r"\d+[smhd]", str(r["for"])):
            errors.append(f"{name}: bad for: {r['for']!r}")
        if r.get("labels", {}).get("severity") not in ("critical", "warning", "info"):
            errors.append(f"{name}: severity must be critical, warning or info")
        summ = r.get("annotations", {}).get("summary", "")
        if not re.search(r"[\u4e00-\u9fff]", summ) or not re.search(r"[A-Za-z]{3}", summ):
            errors.append(f"{name}: summary must be Chinese and English")
        for a, b in ("()", "{}", "[]"):
            if expr.count(a) != expr.count(b):
                errors.append(f"{name}: unbalanced {a}{b} in expr")
        for m in re.findall(r"\b(bbt_[a-z0-9_]+)", expr):
            base = re.sub(r"_(bucket|sum|count)$", "", m)
            if m not in documented and base not in documented:
                errors.append(f"{name}: metric {m} is not in docs/METRICS.md")
missing = need - seen
if missing:
    errors.append(f"missing alerts: {sorted(missing)}")
promtool = shutil.which("promtool")
if promtool:
    p = subprocess.run([promtool, "check", "rules", path], capture_output=True, text=True)
    print(p.stdout.strip())
    if p.returncode != 0:
        errors.append("promtool check rules: " + p.stderr.strip())
else:
    print("promtool not installed: YAML and structure checked here instead")
if errors:
    print("\n".join("FAIL: " + e for e in errors))
    sys.exit(1)
print(f"PASS: {len(seen)} alerts, every metric documented")

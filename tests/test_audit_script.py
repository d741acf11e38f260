"""scripts/audit.py's classification of an outcome (the replay itself runs real processes
for minutes and is not part of the suite): a changed protected file is 'lost', a traceback
is 'traceback', a bad input accepted is 'silent', and a refusal must be one line."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("audit", ROOT / "scripts" / "audit.py")
audit = importlib.util.module_from_spec(spec)
sys.modules["audit"] = audit  # dataclasses look their module up
spec.loader.exec_module(audit)


def _outcome(case, rc, err, before=None, after=None, out=""):
    proc = subprocess.CompletedProcess([], rc, out, err)
    return audit.classify(case, proc, before or {}, after or {}, Path("."))[0]


def test_classification():
    refuse = audit.Case("x", [], says="bad")
    assert _outcome(refuse, 2, "coagentnet x: error: bad\n") == "clean"
    assert _outcome(refuse, 2, "coagentnet x: error: bad\nmore\n") == "other"
    assert _outcome(refuse, 0, "") == "silent"
    assert _outcome(refuse, 1, "Traceback (most recent call last):\nE\n") == "traceback"
    assert _outcome(refuse, 2, "e: bad\n", {"a": "1"}, {"a": "2"}) == "other"  # wrote a file
    kept = audit.Case("x", [], protect=["b.sqlite"])
    assert _outcome(kept, 2, "e\n", {"b.sqlite": "1"}, {}) == "lost"
    warn = audit.Case("x", [], expect=0, says="warning")
    assert _outcome(warn, 0, "coagentnet: warning: w\n") == "clean"
    assert _outcome(warn, 0, "") == "silent"
    either = audit.Case("x", [], expect=None)
    assert _outcome(either, 0, "") == "clean" and _outcome(either, 2, "e\n") == "clean"


def test_every_section_of_audit_2_has_cases():
    sections = {c.section for c in audit.cases_audit2()}
    assert {f"2 #{n}" for n in range(1, 18)} <= sections
    names = [c.name for c in audit.cases_audit1() + audit.cases_audit2()]
    assert len(names) == len(set(names))

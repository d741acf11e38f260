"""The help reads well: ``train``'s options in named groups, every option with its default,
plain text (no reStructuredText markup), no issue numbers in any verb's help."""

from __future__ import annotations

import contextlib
import io
import re

import pytest

from coagentnet.cli import VERBS, main
from coagentnet.commands.options import FIELD_GROUPS, plain
from coagentnet.config import field_kinds


def _help(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as info:
        main([*argv, "--help"])
    assert info.value.code == 0
    return out.getvalue()


@pytest.mark.parametrize("verb", [None, *VERBS])
def test_help_is_plain_text_without_issue_numbers(verb):
    text = _help(*([verb] if verb else []))
    assert "``" not in text and not re.search(r":(mod|func|class|data|meth):`", text)
    assert not re.search(r"\bissues? \d", text), text


def test_train_options_are_grouped_and_show_their_defaults():
    text = _help("train")
    titles = [line for line in text.splitlines() if line and not line[0].isspace()]
    for group in ("data", "model", "rule", "optimiser", "budget", "evaluation", "runs and output"):
        assert any(t.startswith(group) for t in titles), group
    assert set(field_kinds()) - set(FIELD_GROUPS) == set()  # every Config field has its group
    options = re.split(r"\n  (?=-)", text.split("options:", 1)[1])
    for block in options[1:]:
        if not block.startswith(("-h", "-q", "-v")):
            assert "default" in block, block


def test_plain_drops_markup():
    assert plain("see :func:`~a.b.c` and ``x``.") == "see a.b.c and x."

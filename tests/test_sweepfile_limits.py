"""Sweep files a hostile or careless user might give (issue 23; input audit 2, sections 8-11):
an alias bomb, deep nesting, /dev/zero, /dev/urandom, a FIFO or a huge file are one-line
errors naming the file, quickly and in bounded memory; YAML merge keys are accepted."""

from __future__ import annotations

import os

import pytest

from coagentnet.sweeps import sweepfile
from conftest import alarm_bound, refused

BOMB = """name: bomb
base:
  units:
    - &a [x, x, x, x, x, x, x, x, x, x]
    - &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
    - &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
    - &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
    - &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
    - &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
    - &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
    - &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
    - &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]
"""
#: A smaller bomb that passes the node limit: its error message must stay short anyway.
SMALL_BOMB = "\n".join(BOMB.splitlines()[:7]) + "\n"


@pytest.fixture
def bounded():
    """Fail instead of hanging if a case runs past 60 s (a guard, not a timing assertion)."""

    with alarm_bound(60, TimeoutError("ran past its bound")):
        yield


def _file(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


CASES = {
    "alias_bomb": (BOMB, "aliases expand"),
    "small_bomb": (SMALL_BOMB, "base.units"),
    "deep_list": ("name: deep\ndescription: " + "[" * 10000 + "]" * 10000 + "\n", "nested"),
    "deep_map": ("name: deep2\nbase: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n", "nested"),
}


@pytest.mark.parametrize("verb", ["sweep", "status"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_yaml_is_one_line(tmp_path, monkeypatch, capsys, bounded, case, verb):
    monkeypatch.chdir(tmp_path)
    text, needle = CASES[case]
    path = _file(tmp_path, text)
    argv = [verb, path, "--dry-run"] if verb == "sweep" else [verb, path]
    err = refused(capsys, argv, needle, tmp_path)
    assert len(err) < 300, err


@pytest.mark.parametrize("verb", ["sweep", "status", "export"])
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "fifo", "huge"])
def test_special_or_huge_files_are_refused_unread(
    tmp_path, monkeypatch, capsys, bounded, device, verb
):
    monkeypatch.chdir(tmp_path)
    if device == "fifo":
        path = str(tmp_path / "pipe.yaml")
        os.mkfifo(path)
        needle = "not a regular file"
    elif device == "huge":
        path = _file(tmp_path, "# " + "x" * (3 * 2**20) + "\nname: big\n")
        needle = "larger than"
    else:
        path, needle = device, "not a regular file"
    argv = [verb, path, "--dry-run"] if verb == "sweep" else [verb, path]
    refused(capsys, argv, needle, tmp_path)


MERGE = """name: merge
base:
  <<: {dataset: digits, layers: 1}
  units: 8
  epochs: 1
seeds: 1
"""
MERGE2 = """name: merge2
presets:
  quick:
    base: &common {dataset: digits, layers: 1, units: 8, epochs: 1}
  long:
    base:
      <<: *common
      epochs: 3
seeds: 1
"""


def test_merge_keys_are_accepted(tmp_path):
    (run,) = sweepfile.load(_file(tmp_path, MERGE)).runs
    assert (run.config.dataset, run.config.layers, run.config.units) == ("digits", 1, 8)
    (run,) = sweepfile.load(_file(tmp_path, MERGE2, "m2.yaml"), preset="long").runs
    assert (run.config.units, run.config.epochs) == (8, 3)


def test_duplicate_keys_are_still_refused_beside_a_merge(tmp_path):
    text = "name: d\nbase:\n  <<: {units: 8}\n  epochs: 1\n  epochs: 2\n"
    with pytest.raises(sweepfile.SweepError, match="duplicate key 'epochs'"):
        sweepfile.load(_file(tmp_path, text))


def test_a_file_stem_with_spaces_names_the_sweep_safely(tmp_path):
    """Audit 2 #11: a file 'my sweep2.yaml' without a name: key was refused for a name the
    user never wrote; it is named 'my_sweep2'. An explicit name with a space is still refused
    (the name becomes the store's file name)."""
    text = "base: {units: 8, epochs: 1}\n"
    assert sweepfile.load(_file(tmp_path, text, "my sweep2.yaml")).name == "my_sweep2"
    assert sweepfile.load(_file(tmp_path, text, "a <b> & c.yaml")).name == "a_b_c"
    with pytest.raises(sweepfile.SweepError, match="expected a word"):
        sweepfile.load(_file(tmp_path, 'name: "my sweep"\n' + text))

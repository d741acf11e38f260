"""The report leads with findings: sections (figures before tables) first, provenance last,
a title without the store's path, accuracy intervals inside [0, 1], study headings that name
the data the runs used."""

from __future__ import annotations

import math

import pandas as pd

from coagentnet.analysis import html
from coagentnet.commands.report import _title
from coagentnet.reproduce.final_table import clipped_interval


def test_findings_come_before_provenance_and_figures_before_tables(tmp_path):
    png = tmp_path / "f.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n")
    sec = html.Section("Claim one", ["REINFORCE learns."])
    sec.tables.append(html.Table("Final numbers", pd.DataFrame({"method": ["a"], "mean": [0.5]})))
    sec.figures.append(html.Figure("Curves", png, None))
    page = html.render("coagentnet: studies (quick preset)", [sec], command="coagentnet x",
                       versions={"jax": "0"})  # fmt: skip
    at = {k: page.index(k) for k in ("Claim one", "<figure", "Final numbers", "Provenance")}
    assert at["Claim one"] < at["<figure"] < at["Final numbers"] < at["Provenance"]
    assert page.index("coagentnet x") > at["Provenance"]
    assert '<div class="wide"><table>' in page  # wide tables scroll inside the page


def test_the_title_names_the_preset_or_the_store_not_a_path(tmp_path):
    quick = tmp_path / "reproduce" / "quick"
    quick.mkdir(parents=True)
    assert _title(quick) == "coagentnet: the paper's studies (quick preset)"
    store = tmp_path / "digits_lr.sqlite"
    store.write_bytes(b"")
    assert _title(store) == "coagentnet report: digits_lr"


def test_the_page_title_is_the_one_given_not_a_section_heading(finished_sweep, tmp_path):
    from coagentnet.reproduce.report import build_report

    _, store = finished_sweep
    page, _ = build_report([store], tmp_path / "rep", command="c", title="T (quick preset)")
    assert "<title>T (quick preset)</title>" in page.read_text()


def test_accuracy_intervals_are_clipped_and_say_so():
    row = {"test_final_ci_low": -0.2, "test_final_ci_high": 0.9, "ci": "t"}
    assert clipped_interval(row, "accuracy") == (0.0, 0.9, "t, clipped to [0, 1]")
    assert clipped_interval(row, "MSE") == (-0.2, 0.9, "t")
    inside = {"test_final_ci_low": 0.2, "test_final_ci_high": 0.4, "ci": "bootstrap"}
    assert clipped_interval(inside, "accuracy") == (0.2, 0.4, "bootstrap")
    nan = {"test_final_ci_low": math.nan, "test_final_ci_high": math.nan, "ci": "t"}
    assert clipped_interval(nan, "accuracy")[2] == "t"


def test_a_store_outside_a_study_is_headed_once_in_the_markdown():
    from coagentnet.reproduce.summary_markdown import summary_markdown

    table = [{"method": "a", "mean": 0.5}]
    text = summary_markdown({"studies": {"lr": {"lr": {"table": table}}}})
    assert "### lr\n" in text and "lr / lr" not in text
    text = summary_markdown({"studies": {"mnist_deep": {"depth": {"table": table}}}})
    assert "### mnist_deep / depth" in text


def test_the_page_comes_from_a_template_shipped_as_package_data():
    import fnmatch
    import tomllib
    from importlib import resources
    from pathlib import Path

    template = resources.files("coagentnet.analysis") / "templates" / html.TEMPLATE
    assert template.is_file()
    root = Path(__file__).resolve().parents[1]
    data = tomllib.loads((root / "pyproject.toml").read_text())
    globs = data["tool"]["setuptools"]["package-data"]["coagentnet"]
    assert any(fnmatch.fnmatch(f"analysis/templates/{html.TEMPLATE}", g) for g in globs)
    assert any(d.lower().startswith("jinja2") for d in data["project"]["dependencies"])
    page = html.render("T", [], command="c", versions={})
    assert "<title>T</title>" in page and page.rstrip().endswith("</body></html>")

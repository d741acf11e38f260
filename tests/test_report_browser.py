"""report.html in a real browser engine: headless Chromium loads the page, no console errors
or failed loads, and every figure's image decoded. Skipped (with the reason) where Chromium is
not installed (``scripts/setup.sh`` installs it on Debian as root)."""

from __future__ import annotations

import html as html_text
import json
import re
import shutil
import subprocess

import pandas as pd
import pytest

from coagentnet.analysis import html

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)  # fmt: skip
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH")

#: Injected into a copy of the page: records errors from the start, checks images at load.
PROBE_HEAD = (
    "<script>window.__errors=[];"
    "window.addEventListener('error',e=>window.__errors.push(String(e.message||e.type)),true);"
    "const __ce=console.error;console.error=(...a)=>{window.__errors.push(a.join(' '));"
    "__ce(...a)};</script>"
)
PROBE_BODY = (
    "<script>window.addEventListener('load',()=>{const i=[...document.images];"
    "document.body.setAttribute('data-check',JSON.stringify({n:i.length,"
    "broken:i.filter(x=>!x.complete||x.naturalWidth===0).length,errors:window.__errors}))})"
    "</script>"
)


def _check(page: str, folder) -> dict:
    probed = page.replace("<head>", "<head>" + PROBE_HEAD, 1).replace(
        "</body>", PROBE_BODY + "</body>"
    )
    path = folder / "probed.html"
    path.write_text(probed, encoding="utf-8")
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
         "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    found = re.search(r'data-check="([^"]*)"', done.stdout)
    assert found, done.stderr[-2000:]
    return json.loads(html_text.unescape(found.group(1)))


def _page(tmp_path, broken: bool = False) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = []
    for name in ("curves", "sensitivity"):
        fig, ax = plt.subplots()
        ax.plot([0, 1, 2], [0.1, 0.5, 0.8])
        png = tmp_path / f"{name}.png"
        fig.savefig(png)
        plt.close(fig)
        figures.append(html.Figure(name, png))
    if broken:
        (tmp_path / "curves.png").write_bytes(b"not a png")
    sec = html.Section("Claim", ["text"], figures=figures)
    sec.tables.append(html.Table("Final numbers", pd.DataFrame({"method": ["a"], "m": [0.5]})))
    return html.render("coagentnet report: test", [sec], command="coagentnet report x",
                       versions={"jax": "0"}, base=tmp_path)  # fmt: skip


def test_the_report_loads_in_chromium_without_errors_and_every_figure_decodes(tmp_path):
    check = _check(_page(tmp_path), tmp_path)
    assert check == {"n": 2, "broken": 0, "errors": []}


def test_the_browser_check_catches_a_broken_figure(tmp_path):
    check = _check(_page(tmp_path, broken=True), tmp_path)
    assert check["broken"] == 1 and check["errors"]

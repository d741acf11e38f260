"""The HTML report is self-contained and opens in headless Chromium with its figures decoded."""

import base64
import json
import re
import shutil
import subprocess

import pandas as pd
import pytest

from coagentnet.analysis import html as report
from coagentnet.analysis import plots

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

#: Appended to a copy of the report (the report itself has no scripts): records script and
#: resource errors, and after load writes each image's decoded size into the DOM.
PROBE = """<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(String(e.message || e.type)), true);
window.addEventListener('load', () => {
  const out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify({
    images: [...document.images].map(
      i => ({ok: i.complete, w: i.naturalWidth, h: i.naturalHeight})),
    errors: window.__errors,
  });
  document.body.appendChild(out);
});
</script>"""


def _report(tmp_path, n_figures=2):
    figures = []
    for i in range(n_figures):
        fig, (ax,) = plots.new_figure(1)
        band = pd.DataFrame({"step": [0, 1, 2], "mean": [0.1, 0.5 + i / 10, 0.9], "se": 0.05})
        plots.learning_curves(ax, {f"method {i}": band}, ylabel="accuracy")
        png, svg = plots.save(fig, tmp_path / "figures" / f"fig{i}")
        figures.append(report.Figure(f"Figure {i} <&>", png, svg))
    table = pd.DataFrame(
        {"method": ["backprop", "reinforce"], "final": [0.9, float("nan")], "diverged": [0, 1]}
    )
    section = report.Section(
        "Study <one>",
        ["Claim: something & more."],
        tables=[report.Table("Final numbers", table)],
        figures=figures,
    )
    text = report.render(
        "Report title",
        [section],
        command="coagentnet reproduce all --preset quick",
        versions={"jax": "0.0.test"},
        base=tmp_path,
    )
    return report.write(tmp_path / "report.html", text)


def test_report_is_self_contained_and_escaped(tmp_path):
    path = _report(tmp_path)
    text = path.read_text()
    assert text.startswith("<!DOCTYPE html>")
    # No external resources and no scripts: only data: URIs.
    assert not re.search(r"""(src|href)=["'](?!data:)""", text)
    assert "<script" not in text
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(images) == 2
    assert all(base64.b64decode(b)[:8] == b"\x89PNG\r\n\x1a\n" for b in images)
    assert "Figure 0 &lt;&amp;&gt;" in text and "Study &lt;one&gt;" in text
    assert "coagentnet reproduce all --preset quick" in text and "0.0.test" in text
    assert "<td>n/a</td>" in text  # NaN shown as n/a
    assert "figures/fig0.svg" in text  # the SVG twin is named, relative to the report


def _chromium_probe(html_path, tmp_path):
    probe_path = html_path.with_name("probe.html")
    probe_path.write_text(html_path.read_text().replace("</body>", PROBE + "</body>"))
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        probe_path.as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    match = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout, re.S)
    assert match, "the probe did not run: " + proc.stdout[-500:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return json.loads(match.group(1).replace("&quot;", '"')), console


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_report_opens_in_headless_chromium_with_figures_decoded(tmp_path):
    path = _report(tmp_path, n_figures=3)
    probe, console = _chromium_probe(path, tmp_path)
    assert probe["errors"] == [] and console == []
    assert len(probe["images"]) == 3
    for img in probe["images"]:
        assert img["ok"] and img["w"] > 100 and img["h"] > 100


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_probe_detects_a_broken_figure(tmp_path):
    """Negative control: a corrupt image must show up as undecoded."""
    path = _report(tmp_path, n_figures=1)
    text = path.read_text()
    broken = re.sub(r"base64,[^\"]+", "base64,AAAA", text)
    path.write_text(broken)
    probe, _ = _chromium_probe(path, tmp_path)
    assert probe["images"][0]["w"] == 0


def _fake_store(path):
    """A store as `reproduce mnist_deep` would leave it, with made-up metrics (no training):
    two rules x two learning rates x two seeds, one diverged run."""
    from coagentnet.config import Config
    from coagentnet.reproduce.runner import META_KEY
    from coagentnet.sweeps.plan import make_run
    from coagentnet.sweeps.store import Store
    from coagentnet.training.results import RunResult

    with Store(path) as store:
        store.set_meta(
            META_KEY,
            json.dumps(
                {
                    "study": "mnist_deep",
                    "experiment": "critics",
                    "preset": "quick",
                    "command": "coagentnet test",
                }
            ),
        )
        for rule in ("actor_critic", "off_policy"):
            for lr in (0.001, 0.004):
                for seed in (0, 1):
                    cfg = Config(dataset="digits", layers=3, units=8, rule=rule, lr=lr)
                    top = 0.5 + lr * 50 + (rule == "off_policy") * 0.1 + seed * 0.01
                    rows = []
                    for step in (0, 10, 20):
                        acc = 0.1 + (top - 0.1) * step / 20
                        for split in ("train", "validation", "test"):
                            rows.append((step, split, "accuracy", None, acc))
                            for t in range(3):
                                rows.append((step, split, "entropy", t, 0.69 - 0.01 * step * t))
                                rows.append((step, split, "on_fraction", t, 0.5))
                    diverged = rule == "off_policy" and lr == 0.004 and seed == 1
                    store.finish(make_run(cfg, seed), RunResult(cfg, seed, diverged, rows, {}, 20))


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_a_study_report_from_a_store_opens_in_chromium(tmp_path):
    from coagentnet.reproduce.report import build_report

    db = tmp_path / "mnist_deep" / "critics.sqlite"
    db.parent.mkdir()
    _fake_store(db)
    path, summary = build_report([db], tmp_path, command="coagentnet test", title="t")
    rows = summary["studies"]["mnist_deep"]["critics"]["table"]
    # off_policy's best validation setting (lr 0.004) lost a seed: the fewest-diverged rule
    # selects lr 0.001, and the divergence is reported for the method.
    assert {r["method"]: (r["diverged"], r["diverged_all_settings"]) for r in rows} == {
        "actor_critic": (0, 0),
        "off_policy": (0, 1),
    }
    probe, console = _chromium_probe(path, tmp_path)
    assert probe["errors"] == [] and console == []
    names = ("curves", "entropy", "on_fraction", "lr")  # the study's four figures
    assert len(probe["images"]) == len(names)
    assert all(img["ok"] and img["w"] > 100 for img in probe["images"])
    for name in names:
        assert (db.parent / "figures" / f"critics-{name}.svg").exists()

"""The report of the paper's studies: figures (PNG + SVG), final tables (CSV + Markdown) and
one self-contained HTML page, made from stores alone (:func:`build_report`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from coagentnet.analysis import frames as analysis
from coagentnet.analysis import html, plots
from coagentnet.analysis.figures import Fig, draw
from coagentnet.analysis.frames import Protocol
from coagentnet.analysis.improvement import improvement_table
from coagentnet.atomic import check_target, write_text
from coagentnet.reproduce.final_table import final_table
from coagentnet.reproduce.runner import read_meta
from coagentnet.reproduce.studies import STUDIES, Experiment, study
from coagentnet.reproduce.summary_markdown import summary_markdown
from coagentnet.sweeps import sweepfile
from coagentnet.sweeps.provenance import sweep_files
from coagentnet.sweeps.store import Store, StoreError


def _generic_experiment(name: str, frames: analysis.Frames) -> Experiment:
    """Figures for a store no study describes: curves, and lr sensitivity if lr varies."""
    protocol = Protocol.for_frames(frames)
    figs = [Fig("curves", "curves", f"{protocol.metric} (test) at the selected settings")]
    if "lr" in analysis.varying(frames.runs):
        figs.append(
            Fig("sensitivity", "lr", "Validation AUC against the learning rate", x="lr", log2=True)
        )
    return Experiment(name, name, protocol, tuple(figs))


@dataclass
class Analysed:
    """One store, analysed: its table (display), figure files and counts."""

    path: Path
    study: str
    experiment: Experiment
    meta: dict
    table: pd.DataFrame
    figures: list[html.Figure]
    selection: analysis.Selection | None
    datasets: tuple[str, ...] = ()
    improvement: pd.DataFrame | None = None


def analyse_store(path: Path, fig_dir: Path) -> Analysed:
    """Analyse one store and draw its figures into ``fig_dir``."""
    meta = read_meta(path)
    frames = analysis.load(path, meta.get("runs"))
    exp = None
    if meta.get("study"):
        try:
            st = study(meta["study"])
            exp = next(e for e in st.experiments if e.file == meta.get("experiment"))
        except (KeyError, StopIteration):
            exp = None
    if exp is None:
        exp = _generic_experiment(path.stem, frames)
    if frames.runs.empty:
        return Analysed(path, meta.get("study", ""), exp, meta, pd.DataFrame(), [], None)
    sel = analysis.analyse(frames, exp.protocol, label_keys=exp.labels)
    figs = []
    for fig in exp.figures:
        mpl = draw(fig, frames, sel, exp.protocol)
        if mpl is None:
            continue
        png, svg = plots.save(mpl, fig_dir / f"{exp.file}-{fig.name}")
        figs.append(html.Figure(fig.title, png, svg))
    table = final_table(sel, exp.protocol)
    # a run whose config lacks a field (an older store) has NaN there: leave it out
    named = frames.runs["dataset"].dropna().astype(str) if "dataset" in frames.runs else ()
    datasets = tuple(sorted(set(named)))
    poi = improvement_table(frames, sel, exp.protocol)
    return Analysed(path, meta.get("study", ""), exp, meta, table, figs, sel, datasets, poi)


def _versions(path: Path) -> dict[str, str]:
    """Provenance recorded in a store: its runs' versions, git commit and devices, and the
    hashes of the sweep files that wrote it."""
    out: dict[str, set] = {}
    with Store(path, readonly=True) as store:
        for rec in store.runs():
            try:
                recorded = json.loads(rec["versions"] or "{}")
            except (TypeError, ValueError):
                recorded = None
            if not isinstance(recorded, dict):
                raise StoreError(f"store {path}: damaged: run {rec['id']} has a bad 'versions'")
            for k, v in recorded.items():
                out.setdefault(f"{k} (training)", set()).add(v)
            if rec["device"]:
                out.setdefault("device (training)", set()).add(rec["device"])
        for digest, file in sweep_files(store).items():
            out.setdefault("sweep file sha256", set()).add(f"{digest[:16]} ({Path(file).name})")
    return {k: ", ".join(sorted(v)) for k, v in out.items()}


def preset_description(meta: dict) -> str:
    """The description the sweep file gives its preset (what it runs, on which data)."""
    try:
        data = sweepfile.read(meta["file"])
        return str((data.get("presets") or {}).get(meta["preset"], {}).get("description", ""))
    except Exception:  # the file moved: the report is still made from the store alone
        return ""


def build_report(
    stores: list[Path],
    out: Path,
    *,
    command: str,
    title: str,
    timings: dict[str, float] | None = None,
    root: Path | None = None,
) -> tuple[Path, dict]:
    """Figures, tables and ``report.html`` for the given stores, written under ``out``.

    A store at ``root/<sub>/x.sqlite`` gets its figures in ``out/<sub>/figures`` and its
    final table in ``out/<sub>/x-final.csv`` (``root`` defaults to ``out``: ``reproduce``
    keeps them beside the stores); nothing is written outside ``out``, and every file is
    written atomically (:mod:`coagentnet.atomic`).

    Returns the report's path and a summary (per study: the final table as records).
    """
    root = out if root is None else root
    for name in ("report.html", "summary.json", "summary.md"):  # refused before anything
        check_target(out / name, "report")
    sections: list[html.Section] = []
    versions: dict[str, str] = {}
    summary: dict = {"studies": {}, "timings_s": timings or {}}
    order = {s.name: i for i, s in enumerate(STUDIES)}
    analysed = []
    for path in stores:  # read first: a damaged store is refused before any file is written
        versions.update(_versions(path))
    for path in stores:
        analysed.append(analyse_store(path, _beside(path, root, out) / "figures"))
    analysed.sort(key=lambda a: (order.get(a.study, len(order)), a.experiment.file))
    current = None
    for a in analysed:
        if a.study != current:
            current = a.study
            st = study(a.study) if a.study in order else None
            paras = [f"Claim: {st.claim}"] if st else []
            if timings and a.study in timings:
                paras.append(f"Wall time of this study's runs: {timings[a.study]:.0f} s.")
            heading = _study_title(st.title, analysed, a.study) if st else a.experiment.title
            sections.append(html.Section(heading, paras))
        counts = a.meta.get("counts", {})
        paras = []
        desc = preset_description(a.meta) if a.meta.get("file") else ""
        if desc:
            paras.append(f"Preset {a.meta.get('preset')}: {desc}")
        paras.append(
            "Runs: " + ", ".join(f"{counts.get(k, 0)} {k}" for k in counts if counts.get(k))
        )
        if a.selection is not None:
            tuned = ", ".join(a.selection.tune) or "nothing"
            paras.append(
                f"Selection: per method, the setting ({tuned}) with the best area under the "
                f"validation {a.experiment.protocol.metric} curve (fewest diverged seeds "
                f"first); test reported at that setting: mean and standard error over the n "
                f"seeds that did not diverge, and a 95% interval of the mean (column ci: "
                f"Student's t below 10 seeds, percentile bootstrap with seed "
                f"{analysis.BOOTSTRAP_SEED} from 10 up); at_grid_edge names a tuned value "
                f"selected at an end of its grid (the best may lie outside it); diverged "
                f"seeds are counted in the last columns."
            )
        sec = html.Section(a.experiment.title, paras, level=3)
        if not a.table.empty:
            sec.tables.append(html.Table("Final numbers", a.table))
            write_text(
                _beside(a.path, root, out) / f"{a.path.stem}-final.csv",
                a.table.to_csv(index=False),
                option="report",
            )
            if a.improvement is not None and not a.improvement.empty:
                sec.tables.append(html.Table(
                    "Probability of improvement (final test value)", a.improvement,
                    note="P(a run of 'method' beats a run of 'over'), ties half (rliable's "
                    "statistic); 95% percentile bootstrap over runs, seed "
                    f"{analysis.BOOTSTRAP_SEED}; diverged runs left out.",
                ))  # fmt: skip
        else:
            sec.errors.append("No complete runs in this store yet.")
        sec.figures.extend(a.figures)
        sections.append(sec)
        summary["studies"].setdefault(a.study or a.experiment.file, {})[a.experiment.file] = {
            "counts": counts,
            "table": a.table.to_dict(orient="records"),
            "probability_of_improvement": (
                [] if a.improvement is None else a.improvement.to_dict(orient="records")
            ),
            "figures": [_relative(f.png, out) for f in a.figures],
        }
    if analysed:
        sections.insert(0, _claims_summary(analysed, order))
    versions.update(html.analysis_versions())
    intro = [
        "Structural credit assignment with coagent networks: the studies of Gupta et al. (2021) "
        "as measured by coagentnet. Every number below comes from the stores listed; none is "
        "taken from the paper."
    ]
    if timings and "total" in timings:
        intro.append(f"Total wall time of the runs: {timings['total']:.0f} s.")
    page = html.render(title, sections, command=command, versions=versions, intro=intro, base=out)
    path = html.write(out / "report.html", page)
    write_text(out / "summary.json", json.dumps(summary, indent=1, default=str), option="report")
    write_text(out / "summary.md", summary_markdown(summary), option="report")
    return path, summary


def _beside(store: Path, root: Path, out: Path) -> Path:
    """The folder under ``out`` that mirrors ``store``'s folder under ``root``."""
    try:
        return out / Path(store).parent.resolve().relative_to(Path(root).resolve())
    except ValueError:
        return out


def _claims_summary(analysed: list[Analysed], order: dict) -> html.Section:
    """The page's first section: per experiment one line, its claim, its budget (preset and
    runs) and the decisive numbers (each method's final test mean and interval)."""
    lines = []
    for a in analysed:
        st = study(a.study) if a.study in order else None
        head = f"{st.name}: {st.claim}" if st else a.experiment.title
        counts = a.meta.get("counts", {})
        runs = sum(int(v or 0) for v in counts.values())
        budget = f"preset {a.meta.get('preset', '-')}, {runs} runs"
        numbers = []
        if not a.table.empty:
            cols = a.table.columns
            value = next(c for c in cols if c.startswith("final test ") and c.endswith(" mean"))
            for r in a.table.to_dict("records"):
                numbers.append(
                    f"{r['method']} {r[value]:.3g} [{r['ci_low']:.3g}, {r['ci_high']:.3g}]"
                )
        lines.append(
            f"{head} ({a.experiment.file}; {budget}): "
            + ("; ".join(numbers) if numbers else "no complete runs yet")
        )
    note = (
        "One line per experiment: the claim, the budget, and each method's final test value "
        "at its selected setting with its 95% interval. Whether the numbers bear the claim "
        "out is argued, claim by claim, in docs/RESULTS.md."
    )
    return html.Section("Claims summary", [note, *lines])


def _study_title(title: str, analysed: list[Analysed], name: str) -> str:
    """A study's heading names the data it ran on: "MNIST, ..." over runs on digits reads
    "digits (the MNIST study), ..."."""
    used = sorted({d for a in analysed if a.study == name for d in a.datasets})
    if title.startswith("MNIST,") and used and used != ["mnist"]:
        return f"{', '.join(used)} (the MNIST study),{title.removeprefix('MNIST,')}"
    return title


def _relative(path: Path, base: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path(base).resolve()))
    except ValueError:
        return str(path)

"""The paper's studies (SPEC.md section 7): registry, runner and report.

``STUDIES`` is an explicit tuple: each :class:`Study` names its sweep files
(``experiments/<study>/<file>.yaml``, each with a ``quick`` and a ``paper`` preset), how each
experiment is scored (:class:`~coagentnet.analysis.Protocol`) and which figures it makes
(:class:`~coagentnet.figures.Fig`). :func:`run_study` runs the missing runs of a preset
(resumable: one SQLite store per sweep file), and :func:`build_report` turns stores into
figures (PNG + SVG), tables (CSV + Markdown) and one self-contained HTML report.

Layout of an output folder (default ``results/reproduce/<preset>/``)::

    <study>/<file>.sqlite           the store of one sweep file (its meta table names the
                                    study, file, preset and command, so reports need no more)
    <study>/figures/<file>-<fig>.png/.svg    (figures and tables sit next to their store)
    <study>/<file>-final.csv        the final table (one row per method)
    report.html, summary.json, summary.md
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from coagentnet.analysis import frames as analysis
from coagentnet.analysis import html as report
from coagentnet.analysis.figures import Fig, draw
from coagentnet.analysis.frames import Protocol

PRESETS = ("quick", "paper")
META_KEY = "reproduce"


@dataclass(frozen=True)
class Experiment:
    """One sweep file of a study and how it is analysed."""

    file: str
    title: str
    protocol: Protocol
    figures: tuple[Fig, ...]
    labels: tuple[str, ...] | None = None
    """Method columns shown in labels (None: every method column)."""


@dataclass(frozen=True)
class Study:
    name: str
    title: str
    claim: str
    experiments: tuple[Experiment, ...]


_ACC = Protocol(metric="accuracy", maximize=True)
_MSE = Protocol(metric="loss", maximize=False)

STUDIES: tuple[Study, ...] = (
    Study(
        "mnist_shallow",
        "MNIST, 1 and 2 hidden layers: backprop, straight-through, REINFORCE (+ema)",
        "REINFORCE learns but stays below backprop, more so with depth.",
        (
            Experiment(
                "rules",
                "Rules on 1 and 2 hidden layers of 64 units",
                _ACC,
                (
                    Fig(
                        "curves",
                        "curves",
                        "Test accuracy at each rule's selected lr (mean ± SE)",
                        facet="layers",
                    ),
                    Fig(
                        "sensitivity",
                        "lr",
                        "Validation AUC against the learning rate",
                        x="lr",
                        log2=True,
                        facet="layers",
                    ),
                ),
            ),
        ),
    ),
    Study(
        "mnist_deep",
        "MNIST, 3 and 4 hidden layers: REINFORCE, on-policy actor-critic, off-policy",
        "On-policy learners settle on suboptimal solutions (each layer learns under its "
        "neighbours' noise); the off-policy method does better.",
        (
            Experiment(
                "critics",
                "Critic rules on 3 and 4 hidden layers",
                _ACC,
                (
                    Fig("curves", "curves", "Test accuracy at the selected lr", facet="layers"),
                    Fig(
                        "layers",
                        "entropy",
                        "Per-layer mean unit entropy (training split)",
                        split="train",
                        metric="entropy",
                    ),
                    Fig(
                        "layers",
                        "on_fraction",
                        "Per-layer on-fraction (training split, greedy)",
                        split="train",
                        metric="on_fraction",
                    ),
                    Fig(
                        "sensitivity",
                        "lr",
                        "Validation AUC against the learning rate",
                        x="lr",
                        log2=True,
                        facet="layers",
                    ),
                ),
            ),
        ),
    ),
    Study(
        "exploration",
        "Exploration subsets: k stochastic units per layer",
        "(No claim is stated in our sources beyond the study itself: how accuracy depends on "
        "the number k of units that explore; k = 64 is plain REINFORCE.)",
        (
            Experiment(
                "subsets",
                "k exploring units of 64 per layer, 1 and 2 layers",
                _ACC,
                (
                    Fig(
                        "sensitivity",
                        "k",
                        "Final test accuracy against k",
                        x="explore_units",
                        score="test_final",
                        log2=True,
                    ),
                    Fig("curves", "curves", "Test accuracy", facet="layers"),
                ),
            ),
        ),
    ),
    Study(
        "units_k",
        "Policy parameterisation: units per layer x actions per unit K (3 layers)",
        "(The paper plots accuracy over the last 20% of training against units, a line per "
        "K; no direction is stated in our sources.)",
        (
            Experiment(
                "categorical",
                "Categorical units, values in [-1, 1], 3 hidden layers",
                Protocol(metric="accuracy", maximize=True, final_last=0.2),
                (
                    Fig(
                        "sensitivity",
                        "units",
                        "Test accuracy over the last 20% of training against units",
                        x="units",
                        score="test_final",
                        log2=True,
                    ),
                    Fig(
                        "sensitivity",
                        "K",
                        "Test accuracy over the last 20% of training against K",
                        x="num_actions",
                        score="test_final",
                        log2=True,
                    ),
                    Fig("curves", "curves", "Test accuracy", facet="num_actions"),
                ),
            ),
        ),
    ),
    Study(
        "correlated",
        "Correlated online regression: backprop vs coagent networks across d",
        "As d grows, backprop's best step size collapses and its error grows, while coagent "
        "networks stay robust.",
        (
            Experiment(
                "stream",
                "One pass over the correlated stream at each difficulty d",
                _MSE,
                (
                    Fig(
                        "sensitivity",
                        "mse_vs_d",
                        "Test MSE (area over the stream) against d at each d's selected setting",
                        x="difficulty",
                        score="test_auc",
                        log_y=True,
                    ),
                    Fig(
                        "selected",
                        "best_lr",
                        "Selected learning rate against d",
                        x="difficulty",
                        param="lr",
                        log2=True,
                    ),
                    Fig(
                        "sensitivity",
                        "backprop_lr",
                        "Backprop: validation MSE (area) against lr, a line per d",
                        x="lr",
                        log2=True,
                        log_y=True,
                        only={"rule": "backprop"},
                    ),
                    Fig(
                        "sensitivity",
                        "gaussian_unit_std",
                        "Gaussian REINFORCE: validation MSE (area) against unit_std, a line per d",
                        x="unit_std",
                        log2=True,
                        log_y=True,
                        only={"rule": "reinforce"},
                    ),
                    Fig(
                        "curves",
                        "curves",
                        "Test MSE over the stream (updates), a line per d",
                        facet="rule",
                        line="difficulty",
                        log_y=True,
                    ),
                ),
                labels=("rule", "difficulty"),
            ),
        ),
    ),
    Study(
        "tabular",
        "Tabular regression (Boston housing): Gaussian coagents, partitions, pretraining",
        "(Our sources list the comparison, not its outcome: Gaussian coagents, partitions and "
        "pretraining against backprop.)",
        (
            Experiment(
                "boston",
                "Full-batch regression on Boston housing (404/51/51, raw features)",
                _MSE,
                (
                    Fig(
                        "curves",
                        "curves",
                        "Test MSE at each method's selected setting (mean ± SE)",
                        log_y=True,
                    ),
                    Fig(
                        "sensitivity",
                        "lr",
                        "Validation MSE (area) against the learning rate",
                        x="lr",
                        log2=True,
                        log_y=True,
                    ),
                ),
                labels=(
                    "rule",
                    "layers",
                    "partition",
                    "stochastic_readout",
                    "pretrain_epochs",
                ),
            ),
        ),
    ),
)


def study(name: str) -> Study:
    for s in STUDIES:
        if s.name == name:
            return s
    raise KeyError(name)


def experiments_dir() -> Path:
    """``experiments/`` of the source checkout (an editable install), else of the cwd."""
    here = Path(__file__).resolve().parents[2] / "experiments"
    return here if here.is_dir() else Path.cwd() / "experiments"


# --- running ---------------------------------------------------------------------------


@dataclass
class RunLog:
    """What one study's run did (for the summary and the report)."""

    study: str
    seconds: float = 0.0
    runs: int = 0
    trained: int = 0
    diverged: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def store_path(out: Path, study_name: str, file: str) -> Path:
    return out / study_name / f"{file}.sqlite"


def run_study(
    st: Study,
    preset: str,
    out: Path,
    *,
    command: str,
    backend_factory,
    progress_factory=None,
    exp_dir: Path | None = None,
) -> RunLog:
    """Run the missing runs of every sweep file of a study under ``preset``.

    ``backend_factory()`` gives a fresh backend (see :mod:`coagentnet.backends`);
    ``progress_factory(total)`` an optional progress object. A sweep file that fails to
    load (e.g. a config field this version lacks) is logged and skipped, so one broken
    study does not stop the others.
    """
    from coagentnet.sweeps import backends, plan, sweepfile
    from coagentnet.sweeps.store import COMPLETE, Store

    log = RunLog(st.name)
    t0 = time.perf_counter()
    exp_dir = exp_dir or experiments_dir()
    for exp in st.experiments:
        path = exp_dir / st.name / f"{exp.file}.yaml"
        try:
            sweep = sweepfile.load(path, preset=preset)
        except Exception as err:  # a SweepError, or a missing file
            log.errors.append(f"{path}: {err}")
            continue
        log.runs += len(sweep.runs)
        with Store(store_path(out, st.name, exp.file)) as store:
            meta = {
                "study": st.name,
                "experiment": exp.file,
                "preset": preset,
                "file": str(path),
                "command": command,
                # The runs of this preset's sweep: a store kept across an edit of the sweep
                # file is analysed for the current grid only.
                "runs": [r.id for r in sweep.runs],
            }
            store.set_meta(META_KEY, json.dumps(meta, sort_keys=True))
            store.add_runs(sweep.runs)
            status = store.statuses([r.id for r in sweep.runs])
            todo = [r for r in sweep.runs if status[r.id] not in (*COMPLETE, "running")]
            if not todo:
                continue
            with backend_factory() as backend:
                pops = plan.plan(todo, max_population=sweep.max_population, workers=backend.slots)
                print(
                    f"reproduce {st.name}/{exp.file} ({preset}): {len(sweep.runs)} runs, "
                    f"{len(todo)} to run in {len(pops)} populations",
                    file=sys.stderr,
                    flush=True,
                )
                progress = progress_factory(len(todo)) if progress_factory else None
                try:
                    summary = backends.execute(store, pops, backend, progress=progress)
                finally:
                    if progress is not None:
                        progress.close()
            log.trained += summary.done + summary.diverged
            log.diverged += summary.diverged
            log.failed += summary.failed
            log.errors.extend(dict.fromkeys(summary.errors))
    log.seconds = time.perf_counter() - t0
    return log


# --- analysing and reporting -----------------------------------------------------------


def read_meta(path: Path) -> dict:
    """The reproduce note of a store ({} for a store made by ``coagentnet sweep``)."""
    from coagentnet.sweeps.store import Store

    with Store(path, readonly=True) as store:
        text = store.get_meta(META_KEY)
        meta = json.loads(text) if text else {}
        meta["counts"] = store.counts(meta.get("runs"))
    return meta


def _generic_experiment(name: str, frames: analysis.Frames) -> Experiment:
    """Figures for a store no study describes: curves, and lr sensitivity if lr varies."""
    protocol = Protocol.for_frames(frames)
    figs = [Fig("curves", "curves", f"{protocol.metric} (test) at the selected settings")]
    if "lr" in analysis.varying(frames.runs):
        figs.append(
            Fig("sensitivity", "lr", "Validation AUC against the learning rate", x="lr", log2=True)
        )
    return Experiment(name, name, protocol, tuple(figs))


def _fmt(mean: float, se: float, digits: int = 4) -> str:
    if mean != mean:
        return "n/a"
    se_text = "" if se != se else f" ± {se:.{digits}f}"
    return f"{mean:.{digits}f}{se_text}"


def final_table(sel: analysis.Selection, protocol: Protocol) -> pd.DataFrame:
    """The final numbers of one experiment, one row per method, as display strings."""
    rows = []
    name = "accuracy" if protocol.metric == "accuracy" else "MSE"
    for r in sel.table.to_dict("records"):
        row = {"method": r["label"]}
        for t in sel.tune:
            v = r[t]
            row[t] = f"2^{_log2(v)}" if t == "lr" else f"{v:g}"
        row[f"val AUC {name}"] = _fmt(r["val_auc"], r["val_auc_se"])
        row[f"test AUC {name}"] = _fmt(r["test_auc"], r["test_auc_se"])
        row[f"final test {name}"] = _fmt(r["test_final"], r["test_final_se"])
        lo, hi = r["test_final_ci_low"], r["test_final_ci_high"]
        row["95% bootstrap CI"] = "n/a" if lo != lo else f"[{lo:.4f}, {hi:.4f}]"
        row["seeds"] = int(r["n"])
        row["diverged (selected / all settings)"] = (
            f"{int(r['diverged'])} / {int(r['diverged_any'])}"
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _log2(v: float) -> str:
    import math

    e = math.log2(float(v))
    return str(int(e)) if e.is_integer() else f"{e:.2f}"


@dataclass
class Analysed:
    """One store, analysed: its table (display), figure files and counts."""

    path: Path
    study: str
    experiment: Experiment
    meta: dict
    table: pd.DataFrame
    figures: list[report.Figure]
    selection: analysis.Selection | None


def analyse_store(path: Path, fig_dir: Path) -> Analysed:
    """Analyse one store and draw its figures into ``fig_dir``."""
    from coagentnet.analysis import plots

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
        figs.append(report.Figure(fig.title, png, svg))
    table = final_table(sel, exp.protocol)
    return Analysed(path, meta.get("study", ""), exp, meta, table, figs, sel)


def _versions(path: Path) -> dict[str, str]:
    """Training versions and devices recorded in a store's runs."""
    from coagentnet.sweeps.store import Store

    out: dict[str, set] = {}
    with Store(path, readonly=True) as store:
        for rec in store.runs():
            for k, v in json.loads(rec["versions"] or "{}").items():
                out.setdefault(f"{k} (training)", set()).add(v)
            if rec["device"]:
                out.setdefault("device (training)", set()).add(rec["device"])
    return {k: ", ".join(sorted(v)) for k, v in out.items()}


def preset_description(meta: dict) -> str:
    """The description the sweep file gives its preset (what it runs, on which data)."""
    from coagentnet.sweeps import sweepfile

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
) -> tuple[Path, dict]:
    """Figures, tables and ``report.html`` for the given stores, written under ``out``.

    Returns the report's path and a summary (per study: the final table as records).
    """
    sections: list[report.Section] = []
    versions: dict[str, str] = {}
    summary: dict = {"studies": {}, "timings_s": timings or {}}
    order = {s.name: i for i, s in enumerate(STUDIES)}
    analysed = []
    for path in stores:
        analysed.append(analyse_store(path, path.parent / "figures"))
        versions.update(_versions(path))
    analysed.sort(key=lambda a: (order.get(a.study, len(order)), a.experiment.file))
    current = None
    for a in analysed:
        if a.study != current:
            current = a.study
            st = study(a.study) if a.study in order else None
            paras = [f"Claim: {st.claim}"] if st else []
            if timings and a.study in timings:
                paras.append(f"Wall time of this study's runs: {timings[a.study]:.0f} s.")
            sections.append(report.Section(st.title if st else a.experiment.title, paras))
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
                f"first); test reported at that setting: mean ± standard error over seeds "
                f"that did not diverge, 95% percentile bootstrap interval (seed "
                f"{analysis.BOOTSTRAP_SEED}); diverged seeds are counted in the last column."
            )
        sec = report.Section(a.experiment.title, paras, level=3)
        if not a.table.empty:
            sec.tables.append(report.Table("Final numbers", a.table))
            a.table.to_csv(a.path.parent / f"{a.path.stem}-final.csv", index=False)
        else:
            sec.errors.append("No complete runs in this store yet.")
        sec.figures.extend(a.figures)
        sections.append(sec)
        summary["studies"].setdefault(a.study or a.experiment.file, {})[a.experiment.file] = {
            "counts": counts,
            "table": a.table.to_dict(orient="records"),
            "figures": [_relative(f.png, out) for f in a.figures],
        }
    versions.update(report.analysis_versions())
    intro = [
        "Structural credit assignment with coagent networks: the studies of SPEC.md section 7 "
        "as measured by coagentnet. Every number below comes from the stores listed; none is "
        "taken from the paper."
    ]
    if timings and "total" in timings:
        intro.append(f"Total wall time of the runs: {timings['total']:.0f} s.")
    html_text = report.render(
        title, sections, command=command, versions=versions, intro=intro, base=out
    )
    path = report.write(out / "report.html", html_text)
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    (out / "summary.md").write_text(_markdown(summary))
    return path, summary


def _relative(path: Path, base: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path(base).resolve()))
    except ValueError:
        return str(path)


def _markdown(summary: dict) -> str:
    """The final tables as Markdown (for docs/RESULTS.md)."""
    lines = []
    for st, exps in summary["studies"].items():
        for exp, info in exps.items():
            lines.append(f"### {st} / {exp}\n")
            rows = info["table"]
            if not rows:
                lines.append("(no complete runs)\n")
                continue
            cols = list(rows[0])
            lines.append("| " + " | ".join(cols) + " |")
            lines.append("|" + "---|" * len(cols))
            for r in rows:
                lines.append("| " + " | ".join(str(r[c]) for c in cols) + " |")
            lines.append("")
    return "\n".join(lines)


__all__ = [
    "PRESETS",
    "STUDIES",
    "Experiment",
    "Study",
    "RunLog",
    "analyse_store",
    "build_report",
    "experiments_dir",
    "final_table",
    "run_study",
    "store_path",
    "study",
]

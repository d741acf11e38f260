"""The budget ladder of a sweep store (issue 14, item 1): per rule and budget, the learning
rate selected on validation AUC and the final test accuracy there, with its 95% interval.

The store is one made by ``coagentnet sweep`` from a file whose grid crosses ``rule`` (and
other method columns) with ``epochs`` (the budget rungs) and ``lr``. Prints a Markdown table
(mean, SE, interval, n, selected lr, grid-edge flag) and, with ``--figure``, draws final test
accuracy against updates on a log axis with the intervals as error bars, one line per method,
a dashed line at chance. With ``--critics``, a second table gives, for the critic rules at
their selected lr, each hidden layer's critic diagnostics (``critic_ev_greedy``,
``signal_corr_greedy``: :mod:`coagentnet.rules.critic_metrics`) averaged over training and over
seeds. With ``--runs-csv``, one row per finished run (method, layers, updates, lr, seed, its
validation AUC, the selection statistic, and its final test accuracy, whether its setting was
selected): small enough to commit where the store is not, and enough to check the table (the
selected lr maximises the mean validation AUC; the interval is the t interval of the selected
runs' accuracies). Usage::

    python scripts/ladder.py results/ladder_digits-quick.sqlite --figure docs/results/x.png
"""

from __future__ import annotations

import argparse
import math
import sys

from coagentnet.analysis import frames as analysis
from coagentnet.analysis.frames import Protocol
from coagentnet.analysis.labels import method_label
from coagentnet.data import load_dataset
from coagentnet.reproduce.final_table import clipped_interval

FIXED = ("backprop", "reinforce", "reinforce+ema", "actor_critic", "off_policy")


def updates_per_epoch(dataset: str, batch: int) -> int:
    """Updates of one epoch: floor(training examples / batch) (the loop drops the last
    partial batch)."""
    return len(load_dataset(dataset).y_train) // batch


def ladder(path: str):
    """The ladder table, the data set's name, the store's frames and the selected runs
    (labelled by ``method``)."""
    frames = analysis.load(path)
    runs = frames.runs[frames.runs["status"] == "done"]
    frames = analysis.Frames(runs, frames.metrics)
    method = analysis.varying(runs, exclude=("lr",))
    sel = analysis.analyse(frames, Protocol(tune=("lr",)), method=method)
    table = sel.table.copy()
    ds, batch = runs["dataset"].iloc[0], int(runs["batch_size"].iloc[0])
    for col in ("epochs", "layers"):  # one value only (one rung, one depth): the runs' own
        if col not in table.columns:
            table[col] = int(runs[col].iloc[0])
    table["updates"] = table["epochs"].astype(int) * updates_per_epoch(ds, batch)
    others = [m for m in method if m != "epochs"]
    table["method"] = [method_label({k: r[k] for k in others}) for r in table.to_dict("records")]
    table = table.sort_values(["method", "updates"], kind="stable")
    labels = dict(zip(table["label"], table["method"], strict=True))
    return table, ds, frames, sel.runs.assign(method=sel.runs["label"].map(labels))


def runs_csv(table, frames, selected, out: str) -> None:
    """Write one row per finished run (see the module docstring) to ``out``."""
    from coagentnet.analysis.curves import run_scores

    runs = frames.runs
    val = run_scores(frames, "validation", "accuracy", "auc")
    test = run_scores(frames, "test", "accuracy", "final")
    method = analysis.varying(runs, exclude=("lr",))
    others = [m for m in method if m != "epochs"]
    ds, batch = runs["dataset"].iloc[0], int(runs["batch_size"].iloc[0])
    rows = runs.assign(
        method=[method_label({k: r[k] for k in others}) for r in runs.to_dict("records")],
        updates=runs["epochs"].astype(int) * updates_per_epoch(ds, batch),
        val_auc=runs["run"].map(val),
        test_final=runs["run"].map(test),
        selected=runs["run"].isin(selected["run"]),
    )
    cols = ["method", "layers", "updates", "lr", "seed", "val_auc", "test_final", "selected"]
    rows = rows.sort_values(["method", "layers", "updates", "lr", "seed"], kind="stable")
    rows[cols].to_csv(out, index=False, float_format="%.9g")


CRITIC_METRICS = ("critic_ev_greedy", "signal_corr_greedy")


def critic_table(frames, selected) -> str:
    """Per method (critic rules only) and hidden layer: each of :data:`CRITIC_METRICS` averaged
    over the run's evaluations (the training split) and then over seeds, as Markdown."""
    m = frames.metrics[frames.metrics["metric"].isin(CRITIC_METRICS)]
    m = m[m["run"].isin(selected["run"])].merge(selected[["run", "method"]], on="run")
    if m.empty:
        return "(no critic diagnostics: no critic rule among the selected runs)"
    per_run = m.groupby(["method", "metric", "layer", "run"])["value"].mean()
    mean = per_run.groupby(["method", "metric", "layer"]).mean().unstack("layer")
    layers = list(mean.columns)
    head = " / ".join(f"layer {int(t)}" for t in layers)
    lines = [
        f"| method | EV of Q_t for the exact greedy return ({head}) "
        f"| corr(actor signal, exact greedy return) ({head}) |",
        "|---|---|---|",
    ]
    for method in mean.index.get_level_values("method").unique():
        cells = [
            " / ".join(f"{v:.2f}" for v in mean.loc[(method, name)]) for name in CRITIC_METRICS
        ]
        lines.append(f"| {method} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def markdown(table) -> str:
    lines = [
        "| method | updates | selected lr | final test accuracy (mean ± SE) | 95% interval | n |",
        "|---|---|---|---|---|---|",
    ]
    for r in table.to_dict("records"):
        edge = " (grid edge)" if "lr" in str(r["at_grid_edge"]).split(",") else ""
        low, high, kind = clipped_interval(r, "accuracy")  # a t interval can pass 0 or 1
        lines.append(
            f"| {r['method']} | {r['updates']:,} | 2^{int(math.log2(r['lr']))}{edge} "
            f"| {r['test_final']:.3f} ± {r['test_final_se']:.3f} "
            f"| [{low:.3f}, {high:.3f}] ({kind}) | {int(r['n'])} |"
        )
    return "\n".join(lines)


def figure(table, dataset: str, out: str) -> None:
    from coagentnet.analysis import plots

    fig, axes = plots.new_figure(1, width=6.0, height=4.0)
    ax = axes[0]
    looks = plots.fixed_styles(table["method"])  # one look per method, as in every report
    for label, g in table.groupby("method", sort=False):
        i = looks[label]
        lo = g["test_final"] - g["test_final_ci_low"]
        hi = g["test_final_ci_high"] - g["test_final"]
        ax.errorbar(
            g["updates"],
            g["test_final"],
            yerr=[lo, hi],
            label=label,
            capsize=3,
            **plots.style(i),
        )
    ax.set_xscale("log")  # before the ticks: setting the scale resets the locator
    ticks = sorted(set(table["updates"]))
    ax.set_xticks(ticks, [f"{t / 1000:.0f}k" if t >= 1000 else str(t) for t in ticks])
    ax.minorticks_off()
    plots.reference_line(ax, 0.1, "chance (0.1)")
    ax.set_xlabel("updates (batch 32)")
    ax.set_ylabel("final greedy test accuracy")
    n = int(table["n"].min())
    ax.set_title(f"{dataset}, each method at its selected lr\nbars: 95% t interval, n = {n} seeds")
    ax.legend(fontsize=8)
    plots.save(fig, out.removesuffix(".png"))


def curves_figure(table, frames, selected, dataset: str, out: str) -> None:
    """Test accuracy over updates (log x) of each method at its selected lr, mean with a band
    of one standard error over seeds; one panel per depth when the store has several."""
    from coagentnet.analysis import plots
    from coagentnet.analysis.curves import band
    from coagentnet.analysis.plots import family

    depths = sorted(set(selected["layers"]))
    # One colour and marker per method across the panels (its depth is the panel's).
    base = {m: family(m) for m in selected["method"]}
    index = plots.style_index(sorted(set(base.values())))
    fig, axes = plots.new_figure(len(depths), width=5.5, height=4.2, sharey=True)
    for ax, depth in zip(axes, depths, strict=True):
        runs = selected[selected["layers"] == depth]
        bands = {
            base[m]: band(frames, g["run"], "test", "accuracy")
            for m, g in runs.groupby("method", sort=True)
        }
        bands = {m: b[b["step"] > 0] for m, b in bands.items()}  # log x: from the first update
        plots.learning_curves(
            ax,
            bands,
            xlabel="updates (batch 32)",
            ylabel="greedy test accuracy",
            title=f"{dataset}, {depth} x 64, each method at its selected lr",
            styles=index,
        )
        ax.set_xscale("log")
        plots.reference_line(ax, 0.1, "chance (0.1)")
        ax.legend(fontsize=7)
    plots.save(fig, out.removesuffix(".png"))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("store")
    p.add_argument("--figure", help="PNG (and SVG) path of the ladder figure")
    p.add_argument("--critics", action="store_true", help="also the critic diagnostics table")
    p.add_argument("--curves", help="PNG (and SVG) path of the learning curves at selected lrs")
    p.add_argument("--runs-csv", help="CSV path: one row per finished run (see above)")
    a = p.parse_args(argv)
    table, ds, frames, selected = ladder(a.store)
    print(markdown(table))
    if a.critics:
        print()
        print(critic_table(frames, selected))
    if a.figure:
        figure(table, ds, a.figure)
    if a.curves:
        curves_figure(table, frames, selected, ds, a.curves)
    if a.runs_csv:
        runs_csv(table, frames, selected, a.runs_csv)
    return 0


if __name__ == "__main__":
    sys.exit(main())

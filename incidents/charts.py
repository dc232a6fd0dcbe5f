"""Charts for people: the ETA error per group as a PNG (matplotlib's headless Agg backend)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from incidents.selectors.eta_accuracy import EtaAccuracy


def eta_accuracy_png(report: EtaAccuracy, *, title: str) -> bytes:
    """Per group a bar of the median error (minutes, late to the right) and a whisker to the 90th
    percentile of the absolute error on the side of the bias; the number of trips at the right."""
    groups = [g for g in report["groups"] if g["n"]] or [report["overall"]]
    labels = [g["label"] for g in groups]
    median_min = [(g["median_error_s"] or 0.0) / 60 for g in groups]
    p90_min = [(g["p90_abs_error_s"] or 0.0) / 60 for g in groups]
    bias_sign = [1 if (g["bias_s"] or 0.0) >= 0 else -1 for g in groups]
    height_in = 1.2 + 0.32 * len(groups)
    fig, ax = plt.subplots(figsize=(8, height_in), dpi=100)
    try:
        ys = range(len(groups))
        colours = ["#d73027" if m > 0 else "#1a9850" for m in median_min]
        ax.barh(list(ys), median_min, color=colours, height=0.6, label="median error")
        ax.errorbar(
            [s * p for s, p in zip(bias_sign, p90_min, strict=True)], list(ys), fmt="|", color="#333333",
            markersize=12, label="p90 |error| (on the side of the bias)",
        )  # fmt: skip
        ax.axvline(0, color="#555555", linewidth=0.8)
        ax.set_yticks(list(ys), labels)
        ax.invert_yaxis()
        ax.set_xlabel("minutes: actual - ETA at dispatch (late > 0)")
        ax.set_title(title, fontsize=10)
        right = max([abs(v) for v in median_min + p90_min] + [1.0]) * 1.25
        ax.set_xlim(-right, right)
        for y, g in zip(ys, groups, strict=True):
            ax.text(right * 0.98, y, f"n={g['n']}", ha="right", va="center", fontsize=8)
        ax.legend(loc="lower left", fontsize=7)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(fig)

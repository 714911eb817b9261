"""What the Monitor view shows, built from a monitoring report without Textual: the status
line, a drift heatmap (features x windows, worst first), accuracy against the validation
baseline, volume and latency per window, one feature's baseline and current distributions
side by side, and the deployment and retraining story. Every name in it comes from the
store, so it goes through safe_text."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl
from rich.text import Text

from mmtop.tui.safe_text import clean, safe

# Drift severity: the worst distance over its threshold; 1 is the threshold.
SHADES = (
    (0.5, "green"),
    (1.0, "yellow"),
    (2.0, "dark_orange"),
    (math.inf, "red"),
)
BARS = " ▁▂▃▄▅▆▇█"
LIMITS: dict[str, float | None] = {"psi": 0.2, "wasserstein": 0.1, "js": 0.1}
# Alerts on a feature's data rather than its distribution; marked "!" in the heatmap.
QUALITY_KINDS = ("null_share", "out_of_range", "unseen_category")
QUALITY_LINES = 4


def severity(row: dict[str, Any], limits: dict[str, float | None]) -> float | None:
    """The largest distance / threshold of a drift row (None: nothing to compare)."""
    out = None
    for key in ("psi", "wasserstein", "js"):
        value, limit = row.get(key), limits.get(key)
        if value is None or limit is None or limit <= 0 or math.isnan(value):
            continue
        out = max(out or 0.0, value / limit)
    return out


def _shade(level: float | None) -> str:
    if level is None:
        return "grey50"
    return next(style for bound, style in SHADES if level <= bound)


def feature_order(report: Any, limits: dict[str, float | None] | None = None) -> list[str]:
    """Features, the one that drifts most (in its worst window) first."""
    drift = report.drift
    if not drift.height:
        return []
    use = limits or LIMITS
    worst: dict[str, float] = {}
    for row in drift.iter_rows(named=True):
        level = severity(row, use) or 0.0
        worst[row["column"]] = max(worst.get(row["column"], 0.0), level)
    return sorted(worst, key=lambda c: (-worst[c], c))


def status_line(report: Any) -> Text:
    windows = report.windows
    style = {"alert": "bold red", "ok": "bold green"}.get(report.status, "bold")
    text = safe(f"monitor: {report.name} at {report.target}  ", single_line=True)
    text.append(report.status.upper(), style)
    if windows.height:
        alerted = windows.filter(pl.col("alert")).height
        text.append(
            f"  {report.alerts.height} alerts in {alerted} of {windows.height} windows"
            f" · window {report.window}"
        )
    else:
        text.append(" · no predictions logged yet")
    return text


def heatmap(report: Any, selected: str | None, width: int, rows: int) -> Text:
    """Features x windows, worst first: one cell per window, coloured by severity."""
    order = feature_order(report)
    text = Text()
    text.append("data drift (distance / threshold: ", "bold")
    for bound, style in SHADES:
        label = f"≤{bound:g}" if math.isfinite(bound) else ">2"
        text.append("■", style)
        text.append(f"{label} ")
    text.append(")\n", "bold")
    if not order:
        text.append("no baseline or no predictions to compare\n", "dim")
        return text
    windows = report.windows["window"].to_list()
    label_w = min(max(len(clean(c, single_line=True)) for c in order), 16)
    cell = 2 if (width - label_w - 3) >= 2 * len(windows) else 1
    shown = windows[-max(1, (width - label_w - 3) // cell) :]
    drift = {(r["window"], r["column"]): r for r in report.drift.iter_rows(named=True)}
    quality = report.alerts.filter(pl.col("kind").is_in(QUALITY_KINDS))
    marked = set(quality.select("window", "column").rows())
    for column in order[:rows]:
        marker = "▶" if column == selected else " "
        name = clean(column, single_line=True)[:label_w].ljust(label_w)
        text.append(f"{marker}{name} ", "bold" if column == selected else "")
        for w in shown:
            row = drift.get((w, column))
            level = severity(row, LIMITS) if row else None
            glyph = "█" * cell if row is None or not row["drift"] else "▓" * cell
            if (w, column) in marked:
                text.append("!" * cell, "bold red")
            else:
                text.append(glyph, _shade(level))
        text.append("\n")
    if len(order) > rows:
        text.append(f" ... {len(order) - rows} more features\n", "dim")
    if quality.height:
        text.append(f"data quality alerts (!): {quality.height}\n", "bold red")
        for r in quality.tail(QUALITY_LINES).iter_rows(named=True):
            line = safe(f"  w{r['window']} {r['message']}", single_line=True)
            line.truncate(max(width - 3, 8), overflow="ellipsis")
            text.append_text(line)
            text.append("\n")
    return text


def _spark(values: list[float | None], lo: float, hi: float) -> Text:
    text = Text()
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            text.append("·", "dim")
            continue
        frac = 0.0 if hi <= lo else (v - lo) / (hi - lo)
        text.append(BARS[1 + min(7, max(0, int(frac * 7.999)))])
    return text


def quality_chart(report: Any, height: int = 5) -> Text:
    """Accuracy (or RMSE) per window as points, the validation baseline as a dashed line."""
    windows = report.windows
    key = next((k for k in ("accuracy", "rmse") if k in windows.columns), None)
    text = Text()
    if key is None or windows[key].drop_nulls().len() == 0:
        text.append("quality: no labels yet\n", "dim")
        return text
    values = windows[key].to_list()
    base = windows[f"baseline_{key}"].drop_nulls()
    ref = float(base[0]) if base.len() else None
    known = [v for v in values if v is not None and not math.isnan(v)]
    lo = min(known + ([ref] if ref is not None else []))
    hi = max(known + ([ref] if ref is not None else []))
    if hi - lo < 1e-9:
        lo, hi = lo - 0.05, hi + 0.05
    text.append(f"{key} per window", "bold")
    if ref is not None:
        text.append(f"  (---- validation {ref:.3f})", "cyan")
    text.append("\n")
    level = [
        None if v is None or math.isnan(v) else round((v - lo) / (hi - lo) * (height - 1))
        for v in values
    ]
    ref_level = round((ref - lo) / (hi - lo) * (height - 1)) if ref is not None else None
    alerts = set(report.alerts.filter(pl.col("kind") == "performance")["window"].to_list())
    for r in range(height - 1, -1, -1):
        axis = hi - (height - 1 - r) * (hi - lo) / max(height - 1, 1)
        text.append(f"{axis:6.3f} ┤", "dim")
        for i, lv in enumerate(level):
            if lv == r:
                text.append("●", "red" if windows["window"][i] in alerts else "green")
            elif ref_level == r:
                text.append("-", "cyan")
            else:
                text.append(" ")
            text.append(" ")
        text.append("\n")
    return text


def volume_latency(report: Any) -> Text:
    windows = report.windows
    text = Text()
    if not windows.height:
        return text
    rows = windows["rows"].to_list()
    text.append("volume    ", "bold")
    text.append_text(_spark([float(r) for r in rows], 0.0, float(max(rows))))
    text.append(f"  {min(rows):,}-{max(rows):,} predictions/window\n")
    if "latency_p95" in windows.columns and windows["latency_p95"].drop_nulls().len():
        p50, p95 = windows["latency_p50"].to_list(), windows["latency_p95"].to_list()
        top = max(v for v in p95 if v is not None)
        text.append("p50 ms    ", "bold")
        text.append_text(_spark(p50, 0.0, top))
        text.append(f"  last {p50[-1]:.3g}\n" if p50[-1] is not None else "\n")
        text.append("p95 ms    ", "bold")
        text.append_text(_spark(p95, 0.0, top))
        text.append(f"  last {p95[-1]:.3g}\n" if p95[-1] is not None else "\n")
    return text


def _shares_on_bins(base: dict[str, Any], values: np.ndarray[Any, Any]) -> list[float]:
    inner = np.asarray(base["edges"][1:-1], dtype=np.float64)
    n_bins = max(len(base["edges"]) - 1, 1)
    counts = np.bincount(np.searchsorted(inner, values, side="right"), minlength=n_bins)
    return [float(c) / max(int(counts.sum()), 1) for c in counts]


def feature_detail(
    report: Any, column: str | None, baseline: dict[str, Any] | None, current: Any, width: int
) -> Text:
    """Baseline and latest-window distributions of one feature, side by side per bin."""
    text = Text()
    if column is None or baseline is None:
        return text
    base = (baseline.get("features") or {}).get("columns", {}).get(column)
    text.append_text(safe(f"feature {column}", "bold", single_line=True))
    rows = report.drift.filter(pl.col("column") == column)
    if rows.height:
        last = rows.row(rows.height - 1, named=True)
        bits = [
            f"{k} {last[k]:.3g}" for k in ("psi", "wasserstein", "js") if last.get(k) is not None
        ]
        text.append(f"  latest window: {', '.join(bits)}")
    text.append("\n")
    if base is None:
        return text
    bar_w = max(4, (width - 24) // 2)
    text.append(f"{'bin':>12}  {'baseline':<{bar_w}}  current\n", "dim")
    if base.get("kind") == "numeric" and base.get("edges"):
        total = sum(base["counts"]) or 1
        b_shares = [c / total for c in base["counts"]]
        c_shares = (
            _shares_on_bins(base, current)
            if current is not None and len(current)
            else [0.0] * len(b_shares)
        )
        labels = [f"<{e:.3g}" for e in base["edges"][1:]] or [f"{base['edges'][0]:.3g}"]
        labels[-1] = f"≥{base['edges'][-2]:.3g}" if len(base["edges"]) > 1 else labels[-1]
    else:
        cats = list((base.get("categories") or {}).keys())
        total = max(base.get("count") or 1, 1)
        b_shares = [base["categories"][c] / total for c in cats] + [base.get("other", 0) / total]
        labels = [clean(c, single_line=True)[:12] for c in cats] + ["(other)"]
        if current is not None and len(current):
            counts = pl.Series(current).cast(pl.String).value_counts(name="n")
            found = dict(
                zip(counts[counts.columns[0]].to_list(), counts["n"].to_list(), strict=True)
            )
            n = max(sum(found.values()), 1)
            c_shares = [found.get(c, 0) / n for c in cats]
            c_shares.append(max(0.0, 1 - sum(c_shares)))
        else:
            c_shares = [0.0] * len(b_shares)
    top = max(b_shares + c_shares) or 1.0
    for label, b, c in zip(labels, b_shares, c_shares, strict=True):
        text.append(f"{label:>12}  ")
        text.append(("█" * round(b / top * bar_w)).ljust(bar_w), "cyan")
        text.append("  ")
        text.append("█" * round(c / top * bar_w), "magenta")
        text.append("\n")
    return text


def story(report: Any) -> Text:
    text = Text()
    text.append("deployments and retraining\n", "bold")
    if not report.story:
        text.append("  (no deployment at this target)\n", "dim")
    for line in report.story:
        text.append_text(safe(f"  {line}", single_line=True))
        text.append("\n")
    return text

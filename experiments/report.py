"""The reproduction's markdown report: the fitted law beside the paper's, derived figures, the
fit's R^2 on the incline, per-board perfect-play compute, the train/test trade-off, and links
to the plots (relative to the report). Written atomically."""
from __future__ import annotations

import os
from pathlib import Path

from experiments.frontier import FrontierFit, compare_with_paper, per_board_table
from experiments.tradeoff import TradeoffFit, compare_tradeoff_with_paper
from hexzero.storage import atomic_write_text


COMPUTE_UNITS_NOTE = (
    "Compute is counted in the paper's units (self-play samples x search nodes x parameters), so the "
    "two columns measure the same thing; but our trainer learns more per sample and searches fewer nodes "
    "per move than the paper's, so our intercepts (c_inc, and with it the perfect-play and takeoff "
    "compute) are expected to sit lower than the paper's. The slopes (m_flops, m_b_inc, m_b_plat) and the "
    "growth factors per board size are the figures that compare directly.")


def _link(path: Path, report_dir: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), report_dir.resolve())).as_posix()


def render_report(report_path: str | Path, fit: FrontierFit, plots: dict[str, list[Path]],
                  tradeoff: TradeoffFit | None = None, title: str = "Scaling reproduction",
                  notes: str = "", sections: list[str] = ()) -> str:
    """The report's markdown. `plots` maps a caption to the figure's files (PNG shown inline,
    every format linked); `sections`: further markdown sections, before the figures."""
    report_dir = Path(report_path).parent
    p = fit.params
    lines = [f"# {title}", ""]
    if notes:
        lines += [notes.strip(), ""]
    lines += [
        "## The compute frontier law",
        "",
        f"Fitted jointly over boards {', '.join(map(str, fit.boards))} ({fit.points} frontier points, "
        f"{len(fit.bootstrap)} bootstrap refits): **{p.m_flops:.0f} Elo per 10x train compute**, "
        f"R^2 on the incline **{fit.r2_incline:.3f}**.",
        "",
        "Elo = min(0, max(incline, plateau)); incline = m_flops log10 C + m_b_inc b + c_inc; "
        "plateau = m_b_plat b + c_plat.",
        "",
        compare_with_paper(fit),
        "",
        COMPUTE_UNITS_NOTE,
        "",
        "## Per board size",
        "",
        "Perfect play: where the incline reaches -50 Elo; takeoff: where it leaves the plateau. "
        "Compute in paper units (samples x nodes x params).",
        "",
        per_board_table(fit),
        "",
        "The paper's perfect-play compute is the reference's (from the refit 506 / -430 / -4399); Table III's "
        "rounded parameters put it ~20% lower.",
        "",
    ]
    if tradeoff is not None:
        lines += ["## Train/test compute trade-off", "",
                  f"At equal Elo, 10x more train compute saves **{tradeoff.test_saving_per_10x_train:.1f}x** test "
                  "compute (the paper: ~15x).", "", compare_tradeoff_with_paper(tradeoff), ""]
    for section in sections:  # recipes hook (issue 13)
        lines += [section.strip(), ""]
    if plots:
        lines += ["## Figures", ""]
        for caption, paths in plots.items():
            links = [_link(path, report_dir) for path in paths]
            png = [link for link in links if link.endswith(".png")]
            if png:
                lines.append(f"![{caption}]({png[0]})")
            lines += [f"{caption}: " + ", ".join(f"[{Path(link).suffix[1:].upper()}]({link})" for link in links), ""]
    return "\n".join(lines)


def write_report(report_path: str | Path, fit: FrontierFit, plots: dict[str, list[Path]],
                 tradeoff: TradeoffFit | None = None, title: str = "Scaling reproduction", notes: str = "",
                 sections: list[str] = ()) -> Path:
    report_path = Path(report_path)
    atomic_write_text(report_path, render_report(report_path, fit, plots, tradeoff, title, notes, sections) + "\n")
    return report_path

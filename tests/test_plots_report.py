"""Every figure and the report from synthetic data: files exist, are valid PNG/SVG, and the
report carries the fitted numbers and links every figure."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from experiments.frontier import fit_frontier
from experiments.plots import plot_board, plot_frontier_fit, plot_run_curves, plot_test_time, plot_tradeoff
from experiments.report import write_report
from experiments.tradeoff import default_levels, fit_tradeoff, iso_elo_curves
from tests.test_frontier import synthetic_curves
from tests.test_tradeoff import synthetic_ratings

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _check_figure_files(paths):
    assert [p.suffix for p in paths] == [".png", ".svg"]
    png, svg = paths
    data = png.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 2000
    root = ET.fromstring(svg.read_bytes())  # raises if not well-formed XML
    assert root.tag.endswith("svg")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce")
    curves = synthetic_curves(boards=range(3, 7), seed=1)
    fit = fit_frontier(curves, bootstrap=8, seed=1)
    ratings = synthetic_ratings(noise=15.0, seed=2)
    iso = iso_elo_curves(ratings, default_levels(ratings, step=250))
    tradeoff = fit_tradeoff(iso)
    board = np.zeros(25, dtype=np.int8)
    board[[2, 7, 12]] = 1
    board[[5, 11]] = 2
    plots = {
        "Elo against train compute, every run and the frontier (Fig. 5)": plot_run_curves(curves, fit.frontiers, out / "plots" / "runs"),
        "frontier and fitted law (Fig. 6)": plot_frontier_fit(fit.frontiers, fit.params, out / "plots" / "frontier_fit"),
        "Elo against test-time compute (Fig. 8)": plot_test_time(ratings, out / "plots" / "test_time"),
        "train/test trade-off (Fig. 9)": plot_tradeoff(iso, tradeoff, out / "plots" / "tradeoff"),
        "a 5x5 position": plot_board(board, 5, out / "plots" / "board", title="5x5", last_move=12),
    }
    report = write_report(out / "report.md", fit, plots, tradeoff, notes="synthetic data")
    return out, fit, tradeoff, plots, report


def test_every_figure_is_a_valid_png_and_svg(outputs):
    _, _, _, plots, _ = outputs
    assert len(plots) == 5
    for paths in plots.values():
        _check_figure_files(paths)


def test_report_links_every_figure_relatively_and_carries_the_numbers(outputs):
    out, fit, tradeoff, plots, report = outputs
    text = report.read_text()
    links = re.findall(r"\]\(([^)]+)\)", text)
    for paths in plots.values():
        for path in paths:
            rel = path.relative_to(out).as_posix()
            assert rel in links
            assert (report.parent / rel).is_file()
    assert not any(link.startswith("/") for link in links)
    assert f"{fit.params.m_flops:.0f} Elo per 10x" in text
    assert f"{fit.r2_incline:.3f}" in text
    for b in fit.boards:  # each board's perfect-play compute with its bootstrap interval
        lo, hi = fit.derived_interval(lambda p: p.perfect_play_log10_compute(b))
        assert f"| {b} | {10.0 ** fit.params.perfect_play_log10_compute(b):.2g} [{10.0 ** lo:.2g}, {10.0 ** hi:.2g}] |" in text
    assert f"{tradeoff.a:.2f}" in text and f"{tradeoff.test_saving_per_10x_train:.1f}x" in text
    assert "| m_flops (Elo) |" in text and "| 510 |" in text  # ours beside the paper's
    assert "our intercepts" in text  # says why the intercepts differ from the paper's
    assert not list(report.parent.glob(".report.md.tmp-*"))


def test_report_shows_per_seed_slopes_and_the_measured_scale(tmp_path):
    from experiments.frontier import per_seed_fits
    from experiments.report import render_report

    curves = [c.redrawn(seed=s) for s in (0, 1) for c in synthetic_curves(boards=range(3, 6), seed=10 + s)]
    curves = [type(c)(f"{c.name}-s{c.seed}", c.board, c.width, c.depth, c.points, seed=c.seed) for c in curves]
    fit = fit_frontier(curves, bootstrap=6, seed=1)
    per_seed = per_seed_fits(curves)
    top = {"anchor": "perfect-5+g", "agent": "b5-w8", "elo": 40.0, "lower": 10.0, "upper": 70.0,
           "above_by_more_than_interval": True}
    scale = {5: {"random": {"elo": -1700.0, "lower": -1800.0, "upper": -1600.0, "anchor": "perfect-5+g"},
                 "other_perfect": {"elo": -60.0, "lower": -120.0, "upper": 0.0, "anchor": "perfect-5+g",
                                    "agent": "perfect-5"},
                 "before": top, "after": {**top, "elo": -20.0, "lower": -60.0, "upper": 20.0,
                                          "above_by_more_than_interval": False}}}
    text = render_report(tmp_path / "report.md", fit, {}, scale=scale, per_seed=per_seed)
    lo, hi = fit.intervals["m_flops"]
    assert f"| pooled | **{fit.params.m_flops:.0f}** [{lo:.0f}, {hi:.0f}] (90%) |" in text
    for s, p in per_seed.items():
        assert f"| seed {s} alone | {p.m_flops:.0f} |" in text
    assert (f"| 5 | -1700 [-1800, -1600] | {float(fit.params.plateau(5)):.0f} | -780 | -1090 | -60 [-120, 0] (perfect-5) "
            "| +40 [+10, +70] (b5-w8) **above** | -20 [-60, +20] (b5-w8) |") in text
    assert "0 = perfect play." in text

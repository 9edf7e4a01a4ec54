"""The reproduction's markdown report: the fitted law beside the paper's, derived figures, the
fit's R^2 on the incline, per-board perfect-play compute, the train/test trade-off, and links
to the plots (relative to the report). Written atomically."""
from __future__ import annotations

import math
import os
from pathlib import Path

from experiments.anchoring import FLAT_DECADE_ELO, GUIDED_OPPONENT_WINDOW
from experiments.frontier import PAPER_PARAMS, ChangePointParams, FrontierFit, compare_with_paper, per_board_table
from experiments.tradeoff import TradeoffFit, compare_tradeoff_with_paper
from hexzero.storage import atomic_write_text


COMPUTE_UNITS_NOTE = (
    "Compute is counted in the paper's units (self-play samples x search nodes x parameters), so the "
    "two columns measure the same thing; but our trainer learns more per sample and searches fewer nodes "
    "per move than the paper's, so our intercepts (c_inc, and with it the perfect-play and takeoff "
    "compute) are expected to sit lower than the paper's. The slopes (m_flops, m_b_inc, m_b_plat) and the "
    "growth factors per board size are the figures that compare directly.")


# Elo of uniform random play relative to perfect play by the MoHex ladder (the reference,
# jones2021.md: MoHex playing a random move with probability p, from the paper's games).
MOHEX_RANDOM_ELO = {3: -530.0, 5: -1090.0, 7: -1360.0, 9: -1860.0}

SCALE_NOTE = (
    "**0 = perfect play.** On boards the solver covers, two perfect agents play in every tournament; both win "
    "every won position and differ only in lost ones. The solver's own plays the move leaving the fewest "
    "winning replies; weak and middling agents punish those moves more often than they punish a trained "
    "agent's, so against a pool of such agents trained agents scored more than that perfect agent and were "
    "rated above it (intransitivity: it still beats each of them). The guided one, added once the tournament "
    "has rated the pool, plays in lost positions exactly as the top-rated snapshot does, so from every "
    "position it wins at least as often as that snapshot against any opponent, and it plays one batch "
    f"against every agent rated at most {GUIDED_OPPONENT_WINDOW:.0f} Elo below that snapshot, the solver's "
    "perfect agent included. The anchor (0) is the higher-rated of the "
    "two over all games (*after*, the ratings used everywhere else); *before* rates the games without the "
    "guided agent, anchored to the solver's (the old scale). 'max above perfect' is the highest-rated agent "
    "other than the perfect ones, with its 95% interval relative to the anchor: the scale is sound when that "
    "interval reaches 0 or below.")


def _elo_cell(value: dict | None) -> str:
    if not value:
        return "-"
    return f"{value['elo']:.0f} [{value['lower']:.0f}, {value['upper']:.0f}]"


def _other_cell(value: dict | None) -> str:
    return f"{_elo_cell(value)} ({value['agent']})" if value else "-"


def _top_cell(value: dict | None) -> str:
    if not value:
        return "-"
    flag = " **above**" if value["above_by_more_than_interval"] else ""
    return f"{value['elo']:+.0f} [{value['lower']:+.0f}, {value['upper']:+.0f}] ({value['agent']}){flag}"


def measured_table(fit: FrontierFit, scale: dict) -> str:
    """Markdown: per board, the random agent's measured Elo beside the fitted plateau, the
    paper's law and the MoHex ladder; the solver's perfect agent where it is not the anchor;
    and the top of the scale before and after the guided perfect agent."""
    lines = ["| board | random agent, measured (95%) | fitted plateau | paper's law plateau | MoHex ladder "
             "| other perfect agent | max above perfect: before | after |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for b in sorted(scale):
        info = scale[b]
        plateau = f"{float(fit.params.plateau(b)):.0f}" if fit.plateau_identified and b in fit.boards else "n/m"
        mohex = f"{MOHEX_RANDOM_ELO[b]:.0f}" if b in MOHEX_RANDOM_ELO else "-"
        lines.append(f"| {b} | {_elo_cell(info.get('random'))} | {plateau} | {float(PAPER_PARAMS.plateau(b)):.0f} "
                     f"| {mohex} | {_other_cell(info.get('other_perfect'))} | {_top_cell(info.get('before'))} "
                     f"| {_top_cell(info.get('after'))} |")
    return "\n".join(lines)


def top_agent_section(scale: dict) -> list[str]:
    """Markdown: boards above the solver's reach, each anchored to its top agent, with the
    evidence that the agent plays perfectly or its absence (experiments.anchoring)."""
    boards = [b for b in sorted(scale) if scale[b].get("top_agent")]
    if not boards:
        return []
    pct = round(100 * scale[boards[0]]["top_agent"]["confidence"])
    lines = ["## Boards above the solver's reach", "",
             "No exact anchor here: 0 is the board's top-rated agent, as in the paper. It counts as perfect play "
             f"only if the board's frontier gained under {FLAT_DECADE_ELO:.0f} Elo over its last decade of compute "
             f"(the upper end of the {pct}% interval, two-level bootstrap over seeds and ratings; the paper calls "
             f"play within {FLAT_DECADE_ELO:.0f} Elo of the top agent perfect), and only if it took off: a frontier that "
             "never left random play is flat too, so the random agent must sit at least half the paper's random-play "
             "gap for the board below it. Boards without that evidence are left out of the law and of every "
             "perfect-play figure; the random agent's rating is the top agent's level.",
             "", f"| board | top agent (0) | its compute | random agent (95%) | Elo gained over the last decade "
             f"({pct}%) | perfect play at 0? |", "|---:|---|---:|---:|---:|---|"]
    for b in boards:
        info = scale[b]["top_agent"]
        compute = f"{info['compute']:.2g}" if info.get("compute") else "-"
        gain = info["gain"]
        gain_cell = "-" if gain is None or math.isnan(gain) else f"{gain:+.0f} [{info['lower']:+.0f}, {info['upper']:+.0f}]"
        verdict = "yes (in the fit)" if info["perfect_play"] else f"**not shown**: {info['reason']}"
        lines.append(f"| {b} | {info['agent']} | {compute} | {_elo_cell(info.get('random'))} | {gain_cell} | {verdict} |")
    return lines + [""]


def seeds_section(fit: FrontierFit, per_seed: dict[int, ChangePointParams]) -> list[str]:
    pct = round(fit.confidence * 100)
    lo, hi = fit.intervals["m_flops"]
    if not fit.intervals_include_seeds:
        why = ("the sweep has one seed per network" if len(fit.seeds) < 2 else
               f"the intervals resample {fit.resample} only")
        return ["## Seeds", "", f"**The intervals hold rating noise only** ({why}): they leave out training "
                "variance, the largest difference between reruns of a sweep, and come out too narrow.", ""]
    lines = ["## Seeds", "",
             f"Intervals: two-level bootstrap ({len(fit.bootstrap)} resamples) over seeds "
             f"{', '.join(map(str, fit.seeds))}: each network's runs redrawn among its seeds, then every drawn "
             "run's ratings redrawn from their intervals (experiments.frontier.resample_curves). Each board's "
             "frontier is the mean over seeds of every seed's own frontier.", "",
             "| fit | slope (Elo per 10x compute) |", "|---|---:|"]
    lines += [f"| seed {s} alone | {p.m_flops:.0f} |" for s, p in sorted(per_seed.items())]
    lines += [f"| pooled | **{fit.params.m_flops:.0f}** [{lo:.0f}, {hi:.0f}] ({pct}%) |", ""]
    return lines


def _recipe_clause(fit: FrontierFit) -> str:
    if not fit.recipe:
        return ""
    return (f", on the `{fit.recipe}` recipe's runs (each recipe's own law: 'Recipes on one Elo scale'; a frontier "
            "pooled over recipes that cover different compute ranges is no change-point curve)")


def _r2_text(fit: FrontierFit) -> str:
    if math.isnan(fit.r2_incline):  # under three frontier points on the incline
        return "n/m (fewer than three frontier points on the incline: the fit found no incline)"
    return f"**{fit.r2_incline:.3f}**"


def _link(path: Path, report_dir: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), report_dir.resolve())).as_posix()


def render_report(report_path: str | Path, fit: FrontierFit, plots: dict[str, list[Path]],
                  tradeoff: TradeoffFit | None = None, title: str = "Scaling reproduction",
                  notes: str = "", scale: dict | None = None, per_seed: dict | None = None,
                  sections: list[str] = ()) -> str:
    """The report's markdown. `plots` maps a caption to the figure's files (PNG shown inline,
    every format linked); `scale`: per board, the measured anchors and top of the scale
    (experiments.pipeline.board_scale); `per_seed`: seed -> that seed's own fit; `sections`: further markdown sections, before the figures."""
    report_dir = Path(report_path).parent
    p = fit.params
    lines = [f"# {title}", ""]
    if notes:
        lines += [notes.strip(), ""]
    lines += [
        "## The compute frontier law",
        "",
        f"Fitted jointly over boards {', '.join(map(str, fit.boards))}{_recipe_clause(fit)} ({fit.points} frontier "
        f"points, {len(fit.bootstrap)} bootstrap refits): **{p.m_flops:.0f} Elo per 10x train compute**, "
        f"R^2 on the incline {_r2_text(fit)}.",
        "",
        "Elo = min(0, max(incline, plateau)); incline = m_flops log10 C + m_b_inc b + c_inc; "
        "plateau = m_b_plat b + c_plat.",
        "",
        compare_with_paper(fit),
        "",
        COMPUTE_UNITS_NOTE,
        "",
        *seeds_section(fit, per_seed or {}),
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
    if scale:
        lines += ["## Measured: random play and the top of the scale", "",
                  "Elo measured in the tournament (95% intervals) beside the fitted plateau, the paper's law "
                  "(-270 b + 570) and the MoHex ladder's random play. The fitted plateau is where the frontier "
                  "of the *first snapshots* sits, not random play: the first snapshot of a run has already "
                  "trained a little, so it sits above the random agent.", "",
                  measured_table(fit, scale), "", SCALE_NOTE, ""]
    lines += top_agent_section(scale or {})
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
                 scale: dict | None = None, per_seed: dict | None = None, sections: list[str] = ()) -> Path:
    report_path = Path(report_path)
    atomic_write_text(report_path, render_report(report_path, fit, plots, tradeoff, title, notes, scale, per_seed, sections) + "\n")
    return report_path

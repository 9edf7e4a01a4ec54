"""`hexzero ratings`: print the ratings stored in a tournament database (read-only: the file
is not changed), or refit them from the games with `--refit`; plot Elo against training
compute.

The agents of a board form two pools, rated apart: the training-compute frontier (snapshots at
the tournament's node count, random, perfect) and the test-time agents (names starting `tt/`,
snapshots re-rated at several node counts by the reproduction's trade-off). A test-time
agent's games never enter the frontier's ratings."""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hexzero.commands.inputs import existing_file, output_file

HELP = ("print the Elo table stored in a tournament database (agent, run, compute, Elo, interval, games; "
        "--refit to fit again from the games) and plot Elo vs compute")


def add_arguments(p):
    p.add_argument("--db", required=True, type=existing_file, help="tournament database (tournament.sqlite)")
    p.add_argument("--board", type=int, help="only this board size (default: every board in the database)")
    p.add_argument("--refit", action="store_true",
                   help="fit the ratings again from the games and store them (default: print the stored ones)")
    p.add_argument("--colours", choices=("average", "advantage"), default=None,
                   help="with --refit: first-move advantage averaged (the paper, default) or fitted as a term")
    p.add_argument("--plot", type=output_file, help="write a plot of Elo against compute to this image file")
    p.add_argument("--anchor", default=None, help="with --refit: agent name put at 0 Elo (default: the perfect agent, else "
                                                  "the strongest), e.g. an external engine such as MoHex")


@dataclass
class RatingTable:
    """One pool's ratings, strongest first when printed; rows are elo.db AgentRows."""
    title: str
    anchor: str
    method: str
    rows: list
    elo: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    games: np.ndarray

    @classmethod
    def from_fit(cls, title: str, ratings, rows) -> "RatingTable":
        return cls(title, f"{ratings.anchor} at 0 Elo ({ratings.anchor_rule})", ratings.method, list(rows),
                   ratings.elo, ratings.lower, ratings.upper, ratings.games)

    @classmethod
    def from_stored(cls, title: str, stored: dict, rows) -> "RatingTable":
        """stored: {agent id: elo.db.StoredRating}; rows without one are left out."""
        rows = [r for r in rows if r.id in stored]
        got = [stored[r.id] for r in rows]
        anchors = sorted({g.anchor for g in got})
        methods = sorted({g.method for g in got})
        return cls(title, " / ".join(anchors) + " at 0 Elo", " / ".join(methods), rows,
                   *(np.array([getattr(g, key) for g in got], dtype=float) for key in ("elo", "lower", "upper", "games")))


def format_table(table: RatingTable) -> str:
    """A pool's ratings as text, strongest first, with the anchor and method stated."""
    lines = [f"{table.title}: {len(table.rows)} agents",
             f"anchor: {table.anchor}; {table.method}",
             f"{'agent':<36} {'run':<16} {'compute':>10} {'Elo':>7} {'interval':>17} {'games':>7}"]
    for k in sorted(range(len(table.rows)), key=lambda k: -table.elo[k]):
        row = table.rows[k]
        compute = f"{row.compute:.3g}" if row.compute is not None else "-"
        interval = f"[{table.lower[k]:.0f}, {table.upper[k]:.0f}]"
        lines.append(f"{row.name:<36.36} {row.run or '-':<16.16} {compute:>10} {table.elo[k]:>7.0f} "
                     f"{interval:>17} {int(table.games[k]):>7}")
    return "\n".join(lines)


def plot_elo_vs_compute(tables: list[RatingTable], path) -> None:
    """One panel per table: a line per run with interval error bars; agents without compute
    (random, perfect) as horizontal reference lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hexzero.storage import atomic_write_bytes

    fig, axes = plt.subplots(1, len(tables), figsize=(6.5 * len(tables), 4.5), squeeze=False)
    for ax, table in zip(axes[0], tables):
        rows = table.rows
        # One line per run and test-time node count (a test-time pool rates a run at several).
        runs = sorted({(r.run, r.nodes or 0) for r in rows if r.run is not None and r.compute})
        several_nodes = len({nodes for _, nodes in runs}) > 1
        for run, nodes in runs:
            ks = sorted((k for k, r in enumerate(rows) if (r.run, r.nodes or 0) == (run, nodes) and r.compute),
                        key=lambda k: rows[k].compute)
            x = [rows[k].compute for k in ks]
            y = table.elo[ks]
            err = [y - table.lower[ks], table.upper[ks] - y]
            ax.errorbar(x, y, yerr=err, marker="o", ms=3, capsize=2,
                        label=f"{run} @{nodes} nodes" if several_nodes else run)
        for k, r in enumerate(rows):
            if not r.compute:
                ax.axhline(table.elo[k], ls="--", lw=1, color="grey")
                ax.annotate(r.name, (0.01, table.elo[k]), xycoords=("axes fraction", "data"), fontsize=8,
                            va="bottom", color="grey")
        if runs:
            ax.set_xscale("log")
        ax.set_xlabel("training compute")
        ax.set_ylabel(f"Elo ({table.anchor})")
        ax.set_title(table.title)
        if runs:
            ax.legend(fontsize=7)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format=Path(path).suffix.lstrip(".") or "png", dpi=120)
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


def pools(db, board: int) -> list[tuple[str, list, list]]:
    """The pools of one board as (title, agent rows, own rows): the frontier, then the
    test-time agents (when there are any) with the reference agents (no run: random, perfect)
    they played. A pool's own agents are those whose stored ratings it writes: a test-time
    pool leaves the references' frontier ratings as they are."""
    from elo.db import is_test_time

    rows = db.agents(board)
    frontier = [r for r in rows if not is_test_time(r.name)]
    test_time = [r for r in rows if is_test_time(r.name)]
    out = [(f"{board}x{board}", frontier, frontier)]
    if test_time:
        references = [r for r in frontier if r.run is None]
        out.append((f"{board}x{board} test-time agents", references + test_time, test_time))
    return out


def refit(db, title: str, rows, own, colours: str, anchor: str | None = None) -> RatingTable | None:
    """Fit the agents of a pool that have played each other; store the ratings of its own."""
    from elo.tournament import fit_pool

    games, _ = db.games([r.id for r in rows])
    played = games.games_per_agent(len(rows)) > 0
    rows = [r for r, p in zip(rows, played) if p]
    if not rows:
        return None
    ratings, _ = fit_pool(db, rows, colours, anchor if anchor in {r.name for r in rows} else None)
    own_ids = {r.id for r in own}
    db.save_ratings(ratings, [r.id for r in rows], only=[k for k, r in enumerate(rows) if r.id in own_ids])
    return RatingTable.from_fit(title, ratings, rows)


def main(args) -> int:
    from elo.db import TournamentDB

    if args.colours is not None and not args.refit:
        raise ValueError("--colours chooses how --refit fits; the stored ratings were fitted as they say")
    if args.anchor is not None and not args.refit:
        raise ValueError("--anchor chooses the anchor of --refit; the stored ratings keep the anchor they were fitted with")
    tables = []
    with TournamentDB(args.db, readonly=not args.refit) as db:
        boards = [args.board] if args.board is not None else sorted({r.board for r in db.agents()})
        for board in boards:
            for title, rows, own in pools(db, board):
                if args.refit:
                    table = refit(db, title, rows, own, args.colours or "average", args.anchor)
                else:
                    table = RatingTable.from_stored(title, db.stored_ratings([r.id for r in own]), own)
                if table is None or not table.rows:
                    print(f"{title}: {'no games' if args.refit else 'no stored ratings'} yet")
                    continue
                print(format_table(table))
                tables.append(table)
    if args.anchor is not None and not any(args.anchor in {r.name for r in t.rows} for t in tables):
        raise ValueError(f"anchor {args.anchor!r} has played no games in {args.db}")
    if not tables:
        raise ValueError(f"no {'games' if args.refit else 'ratings'} in {args.db}"
                         + (f" for board {args.board}" if args.board is not None else "")
                         + ("" if args.refit else " (a tournament stores ratings as it plays; --refit fits them)"))
    if args.plot:
        plot_elo_vs_compute(tables, args.plot)
        print(f"plot written to {args.plot}")
    return 0

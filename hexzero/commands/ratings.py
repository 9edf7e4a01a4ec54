"""`hexzero ratings`: fit and print the ratings in a tournament database, and plot Elo against
training compute."""
from __future__ import annotations

import io
from pathlib import Path

HELP = "print the Elo table of a tournament database (agent, run, compute, Elo, interval, games) and plot Elo vs compute"


def add_arguments(p):
    p.add_argument("--db", required=True, help="tournament database (tournament.sqlite)")
    p.add_argument("--board", type=int, help="only this board size (default: every board in the database)")
    p.add_argument("--colours", choices=("average", "advantage"), default="average",
                   help="first-move advantage: average (the paper) or advantage (fitted first-move term)")
    p.add_argument("--plot", help="write a plot of Elo against compute to this image file")
    p.add_argument("--anchor", default=None, help="agent name put at 0 Elo (default: the perfect agent, else the "
                                                  "strongest), e.g. an external engine such as MoHex")


def format_table(ratings, rows) -> str:
    """The ratings of a pool as text, strongest first, with the anchor and method stated."""
    lines = [f"anchor: {ratings.anchor} at 0 Elo ({ratings.anchor_rule}); {ratings.method}",
             f"{'agent':<36} {'run':<16} {'compute':>10} {'Elo':>7} {'interval':>17} {'games':>7}"]
    for k in sorted(range(len(rows)), key=lambda k: -ratings.elo[k]):
        row = rows[k]
        compute = f"{row.compute:.3g}" if row.compute is not None else "-"
        interval = f"[{ratings.lower[k]:.0f}, {ratings.upper[k]:.0f}]"
        lines.append(f"{row.name:<36.36} {row.run or '-':<16.16} {compute:>10} {ratings.elo[k]:>7.0f} "
                     f"{interval:>17} {int(ratings.games[k]):>7}")
    return "\n".join(lines)


def plot_elo_vs_compute(pools, path) -> None:
    """pools: [(board, ratings, rows)]. One line per run with interval error bars; agents
    without compute (random, perfect) as horizontal reference lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hexzero.storage import atomic_write_bytes

    fig, axes = plt.subplots(1, len(pools), figsize=(6.5 * len(pools), 4.5), squeeze=False)
    for ax, (board, ratings, rows) in zip(axes[0], pools):
        runs = sorted({r.run for r in rows if r.run is not None and r.compute})
        for run in runs:
            ks = sorted((k for k, r in enumerate(rows) if r.run == run and r.compute), key=lambda k: rows[k].compute)
            x = [rows[k].compute for k in ks]
            y = ratings.elo[ks]
            err = [y - ratings.lower[ks], ratings.upper[ks] - y]
            ax.errorbar(x, y, yerr=err, marker="o", ms=3, capsize=2, label=run)
        for k, r in enumerate(rows):
            if not r.compute:
                ax.axhline(ratings.elo[k], ls="--", lw=1, color="grey")
                ax.annotate(r.name, (0.01, ratings.elo[k]), xycoords=("axes fraction", "data"), fontsize=8,
                            va="bottom", color="grey")
        if runs:
            ax.set_xscale("log")
        ax.set_xlabel("training compute")
        ax.set_ylabel(f"Elo (0 = {ratings.anchor})")
        ax.set_title(f"{board}x{board}")
        if runs:
            ax.legend(fontsize=7)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format=Path(path).suffix.lstrip(".") or "png", dpi=120)
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


def rate_board(db, board: int, colours: str = "average", anchor: str | None = None):
    """Fit the agents of one board that have played; save and return (ratings, rows). anchor:
    an agent name put at 0 Elo when it is in this board's pool."""
    from elo.tournament import fit_pool

    rows = db.agents(board)
    games, _ = db.games([r.id for r in rows])
    played = games.games_per_agent(len(rows)) > 0
    rows = [r for r, p in zip(rows, played) if p]
    if not rows:
        return None, []
    ratings, _ = fit_pool(db, rows, colours, anchor if anchor in {r.name for r in rows} else None)
    db.save_ratings(ratings, [r.id for r in rows])
    return ratings, rows


def main(args) -> int:
    from elo.db import TournamentDB

    if not Path(args.db).is_file():
        raise FileNotFoundError(f"no tournament database at {args.db}")
    with TournamentDB(args.db) as db:
        boards = [args.board] if args.board is not None else sorted({r.board for r in db.agents()})
        pools = []
        for board in boards:
            ratings, rows = rate_board(db, board, args.colours, args.anchor)
            if ratings is None:
                print(f"{board}x{board}: no games yet")
                continue
            print(f"{board}x{board}: {len(rows)} agents")
            print(format_table(ratings, rows))
            pools.append((board, ratings, rows))
    if args.anchor is not None and not any(args.anchor in {r.name for r in rows} for _, _, rows in pools):
        raise ValueError(f"anchor {args.anchor!r} has played no games in {args.db}")
    if not pools:
        raise ValueError(f"no games in {args.db}" + (f" for board {args.board}" if args.board is not None else ""))
    if args.plot:
        plot_elo_vs_compute(pools, args.plot)
        print(f"plot written to {args.plot}")
    return 0

"""`hexzero tournament`: rate every snapshot of a folder of runs for one board size, with the
random agent and (on boards up to 6x6) the perfect agent, in a resumable SQLite tournament."""
from __future__ import annotations

from pathlib import Path

from hexzero.commands.inputs import database_file, existing_folder

HELP = "play a resumable tournament among the snapshots of a folder of runs (one board size) and print their Elo"
SOLVABLE = 5  # the largest board the perfect agent solves
GAMES_PER_AGENT = 1000  # the default games budget, per agent in the pool


def add_arguments(p):
    from elo.ratings import COLOUR_MODES
    from elo.tournament import SCHEMES

    p.add_argument("runs_dir", type=existing_folder, help="a run folder, or a folder of run folders")
    p.add_argument("--board", type=int, required=True, help="board size; snapshots of other sizes are skipped")
    p.add_argument("--scheme", choices=SCHEMES, default="adaptive",
                   help="adaptive (default): batches where they shrink the intervals most; round-robin; "
                        "top: everyone against the top agent")
    p.add_argument("--games-per-batch", type=int, default=32,
                   help="games per batch (one Ray task), half with each colour (default 32)")
    p.add_argument("--rounds", type=int, default=1, help="rounds of the round-robin/top schemes (default 1)")
    p.add_argument("--target-width", type=float, default=100.0,
                   help="stop once every agent's 95%% interval is at most this wide, in Elo (default 100)")
    p.add_argument("--max-games", type=int, default=None,
                   help=f"stop after this many games in the pool (default {GAMES_PER_AGENT} per agent: a pool "
                        "the target cannot be reached in, e.g. perfect against random alone, still ends)")
    p.add_argument("--nodes", type=int, default=64, help="search nodes per move of the snapshots (default 64)")
    p.add_argument("--policy", default=None, help="search policy of the snapshots (default: each run's own)")
    p.add_argument("--colours", choices=COLOUR_MODES, default="average",
                   help="first-move advantage: average (the paper: win rates as black and white averaged) "
                        "or advantage (fitted first-move term, exact under the model)")
    p.add_argument("--db", type=database_file, default=None,
                   help="database, created when missing (default RUNS_DIR/tournament.sqlite)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--in-flight", type=int, default=8, help="batches queued on Ray at once (default 8)")
    p.add_argument("--ray-address", default=None, help="join this Ray cluster (default: a local one, 2 CPUs)")
    p.add_argument("--agent", action="append", default=[], metavar="SPEC",
                   help="add an agent to the pool, as a JSON spec, e.g. an external GTP engine: "
                        "'{\"kind\": \"gtp\", \"command\": [\"mohex\"], \"name\": \"mohex\"}' (repeatable)")
    p.add_argument("--save-games", metavar="DIR", default=None,
                   help="keep every game played as an SGF file in DIR (HexGui opens them)")


def run_folders(runs_dir: Path) -> list[Path]:
    if (runs_dir / "snapshots.jsonl").is_file():
        return [runs_dir]
    return sorted(p for p in runs_dir.iterdir() if (p / "snapshots.jsonl").is_file())


def perfect_available(board: int) -> bool:
    if board > SOLVABLE:
        return False
    try:
        import hexzero.solver  # noqa: F401  (the perfect agent)
    except ModuleNotFoundError:
        return False
    return True


def board_snapshots(runs_dir: Path, board: int, required: bool = True) -> tuple[list[dict], int]:
    """The snapshot records of `board` under the folder, in order of run and compute, and how
    many of other board sizes were left out; ValueError when there are none of `board` and
    they are `required` (a pool of random and perfect alone rates nothing that was asked for;
    with --agent, the agents given are what is rated)."""
    from hexzero.storage import list_snapshots

    runs = run_folders(runs_dir)
    snapshots = [rec for run in runs for rec in list_snapshots(run)]
    mine = [rec for rec in snapshots if rec.get("board") == board]
    if not mine and required:
        found = (f"{len(runs)} run folders with {len(snapshots)} snapshots of other board sizes" if runs else
                 "no run folders (a run folder holds snapshots.jsonl)")
        raise ValueError(f"no {board}x{board} snapshots to rate under {runs_dir}: {found}")
    return mine, len(snapshots) - len(mine)


def register_pool(db, snapshots: list[dict], board: int, nodes: int, policy: str | None) -> list[int]:
    """Register random, the snapshots in order, and perfect: neighbours in this order are close
    in strength, which the schedulers' first round uses. Returns the agent ids."""
    ids = [db.add_agent({"kind": "random", "n": board}, board, name=f"random-{board}")]
    for rec in snapshots:
        spec = {"kind": "snapshot", "path": rec["path"], "nodes": nodes}
        if policy:
            spec["policy"] = policy
        ids.append(db.add_agent(spec, board, name=f"{rec['run']}/{rec['index']:02d}@{nodes}", run=rec["run"],
                                compute=rec.get("compute"), snapshot_index=rec["index"], flops=rec.get("flops"),
                                params=rec.get("params")))
    if perfect_available(board):
        ids.append(db.add_agent({"kind": "perfect", "n": board}, board, name=f"perfect-{board}"))
    return ids


def extra_agent(db, text: str, board: int) -> int:
    """Register an agent given as a JSON spec on the command line (board size filled in)."""
    import json

    try:
        spec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--agent {text!r} is not valid JSON: {exc}") from None
    if not isinstance(spec, dict) or "kind" not in spec:
        raise ValueError(f"--agent must be a JSON object with a 'kind', got {text!r}")
    spec.setdefault("n", board)
    return db.add_agent(spec, board, name=spec.get("name"))


def main(args) -> int:
    from tqdm import tqdm

    from elo.db import TournamentDB
    from elo.tournament import run_tournament
    from hexzero.commands.ratings import RatingTable, format_table

    runs_dir = args.runs_dir
    db_path = args.db or database_file(str(runs_dir / "tournament.sqlite"))
    snapshots, skipped = board_snapshots(runs_dir, args.board, required=not args.agent)
    if skipped:
        print(f"skipped {skipped} snapshots of other board sizes")
    with TournamentDB(db_path) as db:
        ids = register_pool(db, snapshots, args.board, args.nodes, args.policy)
        ids += [extra_agent(db, text, args.board) for text in args.agent]
        max_games = args.max_games if args.max_games is not None else GAMES_PER_AGENT * len(ids)
        print(f"{len(ids)} agents on {args.board}x{args.board}, scheme {args.scheme}, target width "
              f"{args.target_width:g} Elo, at most {max_games} games, database {db_path}")
        with tqdm(total=max_games, unit="game", desc="tournament", dynamic_ncols=True) as bar:
            report = run_tournament(db, ids, scheme=args.scheme, games=args.games_per_batch, rounds=args.rounds,
                                    target_width=args.target_width, max_games=max_games, seed=args.seed,
                                    max_in_flight=args.in_flight, progress=bar, ray_address=args.ray_address,
                                    colours=args.colours, save_games=args.save_games)
        rows = [db.agent(i) for i in ids]
    rate = report.games_played / report.seconds if report.seconds > 0 else 0.0
    print(f"played {report.games_played} games in {report.batches_played} batches, {report.seconds:.1f} s "
          f"({rate:.1f} games/s)")
    if report.engine_restarts:
        print(f"external engines were restarted {report.engine_restarts} times after a crash or hang "
              "(each game went on from the position where it broke)")
    if args.save_games:
        print(f"games saved as SGF in {args.save_games}")
    print(format_table(RatingTable.from_fit(f"{args.board}x{args.board}", report.ratings, rows)))
    return 0

"""Sweep configuration files (experiments/presets/*.json): which runs to train (boards, widths,
depths, compute bounds, seeds, and the recipes: trainer mode and search), how to rate them
(tournament, test-time node counts) and how to analyse them. Loaded and validated into
dataclasses; every error names the bad field, e.g. "boards[1].widths[0]: must be a positive
integer, got 0".

Recipes are a sweep axis. A config either gives one recipe as top-level `trainer` and `search`
(named after its trainer mode), or lists several under `recipes`, each
{"name", "trainer", "search"}: every board x width x depth x seed is then trained once per
recipe, and all of a board's snapshots are rated in one tournament (one Elo scale).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from elo.tournament import SCHEMES
from experiments.frontier import RESAMPLING
from hexzero.config import MODES
from hexzero.policies import LAMBDA_FORMS, POLICIES

PRESETS_DIR = Path(__file__).parent / "presets"
# Declared once, where they are implemented.
SEARCH_POLICIES = POLICIES
TRAINER_MODES = tuple(MODES)
# Recipe names go into run names and folder names.
RECIPE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.]*(-[A-Za-z0-9_.]+)*")


class SweepConfigError(ValueError):
    """A sweep file that cannot run: the message names the field."""


def _positive_int(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SweepConfigError(f"{where}: must be a positive integer, got {value!r}")
    return value


def _positive_number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise SweepConfigError(f"{where}: must be a positive number, got {value!r}")
    return float(value)


def _int_list(value, where: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise SweepConfigError(f"{where}: must be a non-empty list of positive integers, got {value!r}")
    items = tuple(_positive_int(v, f"{where}[{i}]") for i, v in enumerate(value))
    if len(set(items)) != len(items):
        raise SweepConfigError(f"{where}: has repeated values {list(items)}")
    return items


def _choice(value, choices, where: str) -> str:
    if value not in choices:
        raise SweepConfigError(f"{where}: must be one of {', '.join(choices)}, got {value!r}")
    return value


def _section(data, where: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    if not isinstance(data, dict):
        raise SweepConfigError(f"{where}: must be an object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(required) - set(optional))
    if unknown:
        raise SweepConfigError(f"{where}: unknown field(s) {', '.join(unknown)}")
    missing = [k for k in required if k not in data]
    if missing:
        raise SweepConfigError(f"{where}: missing field(s) {', '.join(missing)}")
    return data


@dataclass(frozen=True)
class BoardSweep:
    """One board size's runs: every width x depth, snapshots from compute_min to compute_max,
    each run ending early at `max_samples` self-play positions when given (the paper's per-board
    sample cap: small networks would otherwise need huge sample counts to spend the budget)."""

    board: int
    widths: tuple[int, ...]
    depths: tuple[int, ...]
    compute_min: float
    compute_max: float
    max_samples: int | None = None

    @classmethod
    def parse(cls, data, where: str) -> "BoardSweep":
        data = _section(data, where, ("board", "widths", "depths", "compute"), ("max_samples",))
        board = _positive_int(data["board"], f"{where}.board")
        if not 2 <= board <= 19:
            raise SweepConfigError(f"{where}.board: must be between 2 and 19, got {board}")
        compute = data["compute"]
        if not isinstance(compute, list) or len(compute) != 2:
            raise SweepConfigError(f"{where}.compute: must be [min, max] in paper units, got {compute!r}")
        lo = _positive_number(compute[0], f"{where}.compute[0]")
        hi = _positive_number(compute[1], f"{where}.compute[1]")
        if lo >= hi:
            raise SweepConfigError(f"{where}.compute: min {lo:g} must be below max {hi:g}")
        max_samples = data.get("max_samples")
        if max_samples is not None:
            max_samples = _positive_int(int(max_samples) if isinstance(max_samples, float) and max_samples.is_integer()
                                        else max_samples, f"{where}.max_samples")
        return cls(board, _int_list(data["widths"], f"{where}.widths"), _int_list(data["depths"], f"{where}.depths"), lo, hi,
                   max_samples)


@dataclass(frozen=True)
class TrainerSettings:
    mode: str
    snapshots: int
    overrides: dict = field(default_factory=dict)  # further TrainConfig fields, as given

    @classmethod
    def parse(cls, data, where: str) -> "TrainerSettings":
        data = _section(data, where, ("mode", "snapshots"), ("overrides",))
        overrides = data.get("overrides", {})
        if not isinstance(overrides, dict):
            raise SweepConfigError(f"{where}.overrides: must be an object of TrainConfig fields")
        reserved = sorted(set(overrides) & {"board", "width", "depth", "compute", "compute_start", "seed", "mode",
                                            "search", "snapshots"})
        if reserved:
            raise SweepConfigError(f"{where}.overrides: {', '.join(reserved)} are set by the sweep itself")
        return cls(_choice(data["mode"], TRAINER_MODES, f"{where}.mode"),
                   _positive_int(data["snapshots"], f"{where}.snapshots"), dict(overrides))


@dataclass(frozen=True)
class SearchSettings:
    """Self-play search of every run; lambda_form (regularized only): "paper" reproduces the
    paper's lambda_N = c N / (N + A), "sqrt" is Grill et al.'s; None: the trainer mode's."""

    policy: str
    nodes: int
    lambda_form: str | None = None

    @classmethod
    def parse(cls, data, where: str) -> "SearchSettings":
        data = _section(data, where, ("policy", "nodes"), ("lambda_form",))
        lambda_form = data.get("lambda_form")
        if lambda_form is not None:
            _choice(lambda_form, LAMBDA_FORMS, f"{where}.lambda_form")
        return cls(_choice(data["policy"], SEARCH_POLICIES, f"{where}.policy"), _positive_int(data["nodes"], f"{where}.nodes"),
                   lambda_form)

    def train_search(self) -> dict:
        """The TrainConfig.search entries this sweep sets."""
        search = {"policy": self.policy, "nodes": self.nodes}
        if self.lambda_form is not None:
            search["lambda_form"] = self.lambda_form
        return search


@dataclass(frozen=True)
class Recipe:
    """A named way to train: trainer mode (and its overrides) and self-play search. Rated
    snapshots play with their recipe's search policy (at the tournament's node count).
    `compute_scale` multiplies every board's compute bounds for this recipe: a recipe that
    reaches perfect play 100x sooner shows its whole incline in a range 100x lower, and
    spending the other recipes' budget on it would only add snapshots at perfect play."""

    name: str
    trainer: TrainerSettings
    search: SearchSettings
    compute_scale: float = 1.0

    @classmethod
    def parse(cls, data, where: str) -> "Recipe":
        data = _section(data, where, ("name", "trainer", "search"), ("compute_scale",))
        name = data["name"]
        if not isinstance(name, str) or not RECIPE_NAME.fullmatch(name):
            raise SweepConfigError(f"{where}.name: must be letters, digits, '_', '.' or inner '-' "
                                   f"(it names run folders), got {name!r}")
        return cls(name, TrainerSettings.parse(data["trainer"], f"{where}.trainer"),
                   SearchSettings.parse(data["search"], f"{where}.search"),
                   _positive_number(data.get("compute_scale", 1.0), f"{where}.compute_scale"))


@dataclass(frozen=True)
class TournamentSettings:
    """How each board's snapshots are rated (elo.tournament): the scheduling scheme, games per
    batch per colour order (a batch plays 2 x games_per_colour games), search nodes per move of
    the rated agents, and the stop rule: every rating interval narrower than target_width Elo,
    or max_games games in all, whichever comes first (the adaptive scheme needs one of them)."""

    scheme: str
    games_per_colour: int
    nodes: int
    target_width: float | None = None
    max_games: int | None = None

    @classmethod
    def parse(cls, data, where: str) -> "TournamentSettings":
        data = _section(data, where, ("scheme", "games_per_colour", "nodes"), ("target_width", "max_games"))
        target_width = data.get("target_width")
        if target_width is not None:
            target_width = _positive_number(target_width, f"{where}.target_width")
        max_games = data.get("max_games")
        if max_games is not None:
            max_games = _positive_int(max_games, f"{where}.max_games")
        scheme = _choice(data["scheme"], SCHEMES, f"{where}.scheme")
        if scheme == "adaptive" and target_width is None and max_games is None:
            raise SweepConfigError(f"{where}: the adaptive scheme needs a stop rule: target_width or max_games")
        return cls(scheme, _positive_int(data["games_per_colour"], f"{where}.games_per_colour"),
                   _positive_int(data["nodes"], f"{where}.nodes"), target_width, max_games)


@dataclass(frozen=True)
class TestTimeSettings:
    """Re-rating for the train/test trade-off: `snapshots` snapshots of the board's frontier
    runs, each played at every node count."""

    __test__ = False  # not a pytest class, despite the name

    board: int
    nodes: tuple[int, ...]
    snapshots: int
    games_per_colour: int

    @classmethod
    def parse(cls, data, where: str) -> "TestTimeSettings":
        data = _section(data, where, ("board", "nodes", "snapshots", "games_per_colour"))
        return cls(_positive_int(data["board"], f"{where}.board"), tuple(sorted(_int_list(data["nodes"], f"{where}.nodes"))),
                   _positive_int(data["snapshots"], f"{where}.snapshots"),
                   _positive_int(data["games_per_colour"], f"{where}.games_per_colour"))


@dataclass(frozen=True)
class AnalysisSettings:
    points_per_decade: int = 10
    bootstrap: int = 200
    resample: str = "two-level"
    confidence: float = 0.9

    @classmethod
    def parse(cls, data, where: str) -> "AnalysisSettings":
        data = _section(data, where, (), ("points_per_decade", "bootstrap", "resample", "confidence"))
        settings = cls(**data)
        _positive_int(settings.points_per_decade, f"{where}.points_per_decade")
        if isinstance(settings.bootstrap, bool) or not isinstance(settings.bootstrap, int) or settings.bootstrap < 0:
            raise SweepConfigError(f"{where}.bootstrap: must be an integer >= 0, got {settings.bootstrap!r}")
        _choice(settings.resample, RESAMPLING, f"{where}.resample")
        if not isinstance(settings.confidence, (int, float)) or not 0 < settings.confidence < 1:
            raise SweepConfigError(f"{where}.confidence: must be in (0, 1), got {settings.confidence!r}")
        return settings


@dataclass(frozen=True)
class RunResources:
    """What one training run holds on the Ray cluster (experiments.sweep): CPUs for its
    self-play and learner, and GPUs (0: CPU only; 1: one run per GPU; fractions share one)."""

    cpus: float = 1.0
    gpus: float = 0.0

    @classmethod
    def parse(cls, data, where: str) -> "RunResources":
        data = _section(data, where, (), ("cpus", "gpus"))
        cpus = _positive_number(data.get("cpus", 1), f"{where}.cpus")
        gpus = data.get("gpus", 0)
        if gpus != 0:
            gpus = _positive_number(gpus, f"{where}.gpus")
        return cls(cpus, float(gpus))


@dataclass(frozen=True)
class PlannedRun:
    """One training run of the sweep: compute budget and first snapshot in paper units;
    `train_kwargs` go to TrainConfig.for_mode(mode, **kwargs)."""

    name: str
    recipe: str
    board: int
    width: int
    depth: int
    seed: int
    budget: float
    first_snapshot_compute: float
    mode: str
    train_kwargs: dict


@dataclass(frozen=True)
class SweepConfig:
    name: str
    description: str
    recipes: tuple[Recipe, ...]
    seeds: tuple[int, ...]
    boards: tuple[BoardSweep, ...]
    tournament: TournamentSettings
    test_time: TestTimeSettings
    analysis: AnalysisSettings
    resources: RunResources = RunResources()

    @classmethod
    def from_dict(cls, data) -> "SweepConfig":
        if isinstance(data, dict) and "recipes" in data:
            data = _section(data, "sweep", ("name", "recipes", "seeds", "boards", "tournament", "test_time"),
                            ("description", "analysis", "resources"))
            listed = data["recipes"]
            if not isinstance(listed, list) or not listed:
                raise SweepConfigError("recipes: must be a non-empty list of {name, trainer, search}")
            recipes = tuple(Recipe.parse(r, f"recipes[{i}]") for i, r in enumerate(listed))
            names = [r.name for r in recipes]
            if len(set(names)) != len(names):
                raise SweepConfigError(f"recipes: names repeat: {names}")
        else:
            data = _section(data, "sweep", ("name", "trainer", "search", "seeds", "boards", "tournament", "test_time"),
                            ("description", "analysis", "resources"))
            trainer = TrainerSettings.parse(data["trainer"], "trainer")
            recipes = (Recipe(trainer.mode, trainer, SearchSettings.parse(data["search"], "search")),)
        if not isinstance(data["name"], str) or not data["name"]:
            raise SweepConfigError(f"name: must be a non-empty string, got {data['name']!r}")
        seeds = data["seeds"]
        if not isinstance(seeds, list) or not seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
            raise SweepConfigError(f"seeds: must be a non-empty list of integers >= 0, got {seeds!r}")
        if not isinstance(data["boards"], list) or not data["boards"]:
            raise SweepConfigError("boards: must be a non-empty list")
        boards = tuple(BoardSweep.parse(b, f"boards[{i}]") for i, b in enumerate(data["boards"]))
        sizes = [b.board for b in boards]
        if len(set(sizes)) != len(sizes):
            raise SweepConfigError(f"boards: board sizes repeat: {sizes}")
        test_time = TestTimeSettings.parse(data["test_time"], "test_time")
        if test_time.board not in sizes:
            raise SweepConfigError(f"test_time.board: {test_time.board} is not one of the sweep's boards {sizes}")
        return cls(name=data["name"], description=str(data.get("description", "")), recipes=recipes,
                   seeds=tuple(seeds), boards=boards,
                   tournament=TournamentSettings.parse(data["tournament"], "tournament"), test_time=test_time,
                   analysis=AnalysisSettings.parse(data.get("analysis", {}), "analysis"),
                   resources=RunResources.parse(data.get("resources", {}), "resources"))

    # A single-recipe sweep's settings under their old names (the first recipe's when several).
    @property
    def trainer(self) -> TrainerSettings:
        return self.recipes[0].trainer

    @property
    def search(self) -> SearchSettings:
        return self.recipes[0].search

    def runs(self) -> list[PlannedRun]:
        """Every run: recipe x board x width x depth x seed, named {recipe}-b{board}-w{width}-d{depth}-s{seed}.
        A single-recipe sweep leaves the recipe out of the name (nothing to tell apart), so run
        folders started before recipes existed keep resuming; its runs still record it."""
        runs = []
        for recipe in self.recipes:
            prefix = f"{recipe.name}-" if len(self.recipes) > 1 else ""
            for sweep in self.boards:
                for width in sweep.widths:
                    for depth in sweep.depths:
                        for seed in self.seeds:
                            lo, hi = sweep.compute_min * recipe.compute_scale, sweep.compute_max * recipe.compute_scale
                            kwargs = {**recipe.trainer.overrides, "board": sweep.board, "width": width, "depth": depth,
                                      "seed": seed, "compute": hi, "compute_start": lo,
                                      "snapshots": recipe.trainer.snapshots, "search": recipe.search.train_search(),
                                      "max_samples": sweep.max_samples}
                            runs.append(PlannedRun(f"{prefix}b{sweep.board}-w{width}-d{depth}-s{seed}", recipe.name,
                                                   sweep.board, width, depth, seed, hi, lo, recipe.trainer.mode,
                                                   kwargs))
        return runs


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.json"))


def load_preset(name: str) -> SweepConfig:
    """One of the shipped sweeps: quick, standard, paper or recipes."""
    path = PRESETS_DIR / f"{name}.json"
    if not path.is_file():
        raise SweepConfigError(f"no preset named {name!r} (presets: {', '.join(preset_names())})")
    return load_sweep_config(path)


def load_sweep_config(source: str | Path) -> SweepConfig:
    """A sweep JSON file, or a preset's name (a bare word that is not a file: a run folder
    named after its preset, as `reproduce --out standard` makes, does not hide the preset)."""
    path = Path(source)
    if not path.suffix and not path.is_file():
        return load_preset(str(source))
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise SweepConfigError(f"sweep config {path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise SweepConfigError(f"sweep config {path} is not valid JSON: {exc}") from None
    try:
        return SweepConfig.from_dict(data)
    except SweepConfigError as exc:
        raise SweepConfigError(f"{path}: {exc}") from None

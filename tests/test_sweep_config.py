"""Sweep config files: the presets load and make valid training configs; bad fields are named."""
from __future__ import annotations

import copy
import json

import pytest

from experiments.sweep_config import PRESETS_DIR, SweepConfigError, load_preset, load_sweep_config
from hexzero.train import PAPER_COMPUTE_RANGE, TrainConfig


@pytest.mark.parametrize("preset", ["quick", "standard", "paper", "recipes"])
def test_presets_load_and_every_run_is_a_valid_train_config(preset):
    config = load_sweep_config(preset)
    runs = config.runs()
    assert len({r.name for r in runs}) == len(runs)
    recipes = {r.name: r for r in config.recipes}
    for run in runs[:: max(1, len(runs) // 12)]:
        train = TrainConfig.for_mode(run.mode, **run.train_kwargs)
        assert (train.board, train.width, train.depth) == (run.board, run.width, run.depth)
        assert train.search["nodes"] == recipes[run.recipe].search.nodes


def test_quick_preset_is_small_and_paper_preset_matches_the_paper():
    quick = load_preset("quick")
    assert [b.board for b in quick.boards] == [3, 4, 5]
    budgets = [b.compute_max for b in quick.boards]
    assert budgets == sorted(budgets), "bigger boards get bigger budgets"
    assert all(b.max_samples is not None for b in quick.boards), "every quick run is capped in samples"
    assert quick.trainer.mode == "fast" and quick.trainer.snapshots == 11
    assert (quick.search.policy, quick.search.nodes, quick.tournament.nodes) == ("gumbel", 16, 16)
    assert quick.test_time.nodes == (1, 2, 4, 8, 16, 32, 64)
    runs = quick.runs()
    assert len(quick.seeds) >= 2, "the intervals resample seeds"
    assert len(runs) <= 9 * len(quick.seeds)
    first, board3 = runs[0], quick.boards[0]
    # a single-recipe sweep: one recipe named after its mode, left out of the run names
    assert [r.name for r in quick.recipes] == ["fast"] and {r.recipe for r in runs} == {"fast"}
    assert first.name == f"b3-w{board3.widths[0]}-d{board3.depths[0]}-s0"
    assert (first.board, first.seed, first.budget, first.first_snapshot_compute) == (3, 0, board3.compute_max, board3.compute_min)
    assert first.train_kwargs["max_samples"] == board3.max_samples
    assert load_sweep_config("quick") == quick
    paper = load_preset("paper")
    assert paper.search.train_search() == {"policy": "regularized", "nodes": 64, "lambda_form": "paper"}
    train = TrainConfig.for_mode(paper.runs()[0].mode, **paper.runs()[0].train_kwargs)
    assert train.search["lambda_form"] == "paper" and train.search["nodes"] == 64
    assert [b.board for b in paper.boards] == list(range(3, 10))
    for sweep in paper.boards:
        assert (sweep.compute_min, sweep.compute_max) == PAPER_COMPUTE_RANGE[sweep.board]
        assert sweep.depths == (1, 2, 4, 8)
    widths = {b.board: max(b.widths) for b in paper.boards}
    assert widths == {3: 2, 4: 16, 5: 16, 6: 128, 7: 512, 8: 512, 9: 4096}
    assert paper.trainer.mode == "paper" and paper.trainer.snapshots == 21
    assert paper.test_time.nodes == tuple(2 ** k for k in range(10))


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["boards"][1].__setitem__("widths", [4, 0]), r"boards\[1\]\.widths\[1\]: must be a positive integer"),
    (lambda d: d["boards"][0].__setitem__("compute", [1e12, 1e10]), r"boards\[0\]\.compute: min"),
    (lambda d: d["boards"][0].__setitem__("board", 25), r"boards\[0\]\.board: must be between 2 and 19"),
    (lambda d: d["boards"].append(copy.deepcopy(d["boards"][0])), "board sizes repeat"),
    (lambda d: d["search"].__setitem__("policy", "alphabeta"), r"search\.policy: must be one of"),
    (lambda d: d["trainer"].__setitem__("mode", "slow"), r"trainer\.mode"),
    (lambda d: d["trainer"].__setitem__("overrides", {"board": 3}), r"trainer\.overrides: board"),
    (lambda d: d["tournament"].__setitem__("extra", 1), r"tournament: unknown field\(s\) extra"),
    (lambda d: d["tournament"].__setitem__("scheme", "swiss"), r"tournament\.scheme: must be one of adaptive"),
    (lambda d: [d["tournament"].pop(k) for k in ("target_width", "max_games")], r"tournament: the adaptive scheme needs a stop rule"),
    (lambda d: d["tournament"].__setitem__("target_width", -5), r"tournament\.target_width: must be a positive number"),
    (lambda d: d["search"].__setitem__("lambda_form", "log"), r"search\.lambda_form: must be one of sqrt, paper"),
    (lambda d: d.pop("seeds"), r"missing field\(s\) seeds"),
    (lambda d: d["test_time"].__setitem__("board", 9), r"test_time\.board: 9 is not one of"),
    (lambda d: d["analysis"].__setitem__("resample", "magic"), r"analysis\.resample"),
    (lambda d: d["analysis"].__setitem__("confidence", 1.5), r"analysis\.confidence"),
])
def test_bad_fields_are_named(tmp_path, edit, message):
    data = json.loads((PRESETS_DIR / "quick.json").read_text())
    edit(data)
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SweepConfigError, match=message) as error:
        load_sweep_config(path)
    assert str(path) in str(error.value)  # the file is named too


def test_missing_preset_and_broken_json_are_reported(tmp_path):
    with pytest.raises(SweepConfigError, match="no preset named 'huge'.*quick"):
        load_sweep_config("huge")
    with pytest.raises(SweepConfigError, match="no preset named 'huge'"):
        load_preset("huge")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(SweepConfigError, match="not valid JSON"):
        load_sweep_config(broken)


def recipes_data() -> dict:
    return json.loads((PRESETS_DIR / "recipes.json").read_text())


def test_recipes_preset_sweeps_three_recipes_on_one_grid():
    config = load_preset("recipes")
    assert [r.name for r in config.recipes] == ["paper", "paper-sqrt", "fast"]
    assert [b.board for b in config.boards][:2] == [3, 4]
    assert all(len(b.widths) >= 3 for b in config.boards) and len(config.seeds) >= 2
    runs = config.runs()
    assert len(runs) == 3 * sum(len(b.widths) * len(b.depths) for b in config.boards) * len(config.seeds)
    assert len({r.name for r in runs}) == len(runs)
    by_name = {r.name: r for r in runs}
    board3 = config.boards[0]
    w = board3.widths[0]
    paper, sqrt, fast = (by_name[f"{p}-b3-w{w}-d{board3.depths[0]}-s0"] for p in ("paper", "paper-sqrt", "fast"))
    assert (paper.recipe, sqrt.recipe, fast.recipe) == ("paper", "paper-sqrt", "fast")
    for run, lam in ((paper, "paper"), (sqrt, "sqrt")):
        train = TrainConfig.for_mode(run.mode, **run.train_kwargs)
        assert (train.mode, train.search["policy"], train.search["nodes"], train.search["lambda_form"]) == (
            "paper", "regularized", 64, lam)
    train = TrainConfig.for_mode(fast.mode, **fast.train_kwargs)
    assert (train.mode, train.search["policy"], train.search["nodes"]) == ("fast", "gumbel", 16)
    # fast's compute range is the board's scaled by its recipe's compute_scale
    scale = config.recipes[2].compute_scale
    assert (fast.first_snapshot_compute, fast.budget) == pytest.approx((board3.compute_min * scale, board3.compute_max * scale))
    assert (paper.first_snapshot_compute, paper.budget) == (board3.compute_min, board3.compute_max)


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["recipes"][1].__setitem__("name", "paper sqrt"), r"recipes\[1\]\.name: must be letters"),
    (lambda d: d["recipes"][2].__setitem__("name", "paper"), r"recipes: names repeat"),
    (lambda d: d["recipes"][0]["search"].__setitem__("lambda_form", "log"), r"recipes\[0\]\.search\.lambda_form"),
    (lambda d: d["recipes"][2].__setitem__("compute_scale", 0), r"recipes\[2\]\.compute_scale: must be a positive"),
    (lambda d: d["recipes"][2]["trainer"].__setitem__("mode", "slow"), r"recipes\[2\]\.trainer\.mode"),
    (lambda d: d.__setitem__("recipes", []), r"recipes: must be a non-empty list"),
    (lambda d: d.__setitem__("trainer", {"mode": "fast", "snapshots": 3}), r"sweep: unknown field\(s\) trainer"),
])
def test_bad_recipe_fields_are_named(tmp_path, edit, message):
    data = recipes_data()
    edit(data)
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SweepConfigError, match=message):
        load_sweep_config(path)


def test_a_folder_named_after_a_preset_does_not_hide_it(tmp_path, monkeypatch):
    """`hexzero reproduce --preset standard` run where an earlier `--out standard` left a
    folder of that name: the preset still loads (it used to fail with "is a directory")."""
    from experiments.pipeline import sweep_data

    monkeypatch.chdir(tmp_path)
    (tmp_path / "standard").mkdir()
    assert load_sweep_config("standard") == load_preset("standard")
    assert sweep_data("standard")[0] == load_preset("standard")

"""Files and formats: the snapshot format round trip (and the agent built from it), clear
one-line errors for missing, corrupt and foreign files, JSON lines that survive a torn write,
and an import graph without cycles."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import torch

from hexzero.agents import load_snapshot_agent, make_agent
from hexzero.hex import HexGames
from hexzero.network import make_network, network_config, network_from_snapshot
from hexzero.storage import (SnapshotError, append_jsonl, load_snapshot, read_jsonl, save_snapshot,
                             save_torch_file, write_jsonl)

PACKAGE = Path(__file__).resolve().parents[1] / "hexzero"


def conv_network():
    torch.manual_seed(1)
    network = make_network("conv", 4, 6, 2)
    with torch.no_grad():
        for block in network.blocks:
            block.alpha.fill_(0.5)  # make the blocks matter
    return network.eval()


def write_snapshot(path, network, **extra):
    save_snapshot(path, network_config=network_config(network), network_state=network.state_dict(),
                  train_config={"board": 4, "search": {"policy": "gumbel", "nodes": 4}}, compute=1e6, **extra)


def test_snapshot_round_trip_rebuilds_the_same_function_and_agent(tmp_path):
    network = conv_network()
    path = tmp_path / "run" / "snapshots" / "snapshot-03.pt"
    write_snapshot(path, network, index=3, metrics={"accuracy": 0.5})
    data = load_snapshot(path)
    assert data["network_config"] == {"kind": "conv", "n": 4, "width": 6, "depth": 2}
    assert data["compute"] == 1e6 and data["index"] == 3 and data["metrics"] == {"accuracy": 0.5}
    assert all(t.device.type == "cpu" for t in data["network_state"].values())
    clone = network_from_snapshot(data)
    obs = torch.from_numpy(HexGames(4, 2).observation())
    for a, b in zip(network(obs), clone(obs)):
        assert torch.equal(a, b)
    agent = make_agent({"kind": "snapshot", "path": str(path), "nodes": 2, "greedy": True})
    assert agent.name == "run/snapshot-03@2" and agent.n == 4
    games = HexGames(4, 3)
    moves = agent.act(games.board, games.to_play, np.random.default_rng(0))
    assert moves.shape == (3,) and ((0 <= moves) & (moves < 16)).all()


def test_bad_snapshot_files_fail_in_one_line_naming_the_file(tmp_path):
    network = conv_network()
    cases = {}
    cases["missing"] = tmp_path / "nowhere.pt"
    torn = tmp_path / "torn.pt"
    write_snapshot(torn, network)
    torn.write_bytes(torn.read_bytes()[:200])
    cases["torn"] = torn
    text = tmp_path / "notes.pt"
    text.write_text("not a snapshot\n")
    cases["text"] = text
    foreign = tmp_path / "resume.pt"
    save_torch_file(foreign, "hexzero-resume", 2, {"ledger": {}})
    cases["foreign"] = foreign
    newer = tmp_path / "newer.pt"
    save_torch_file(newer, "hexzero-snapshot", 99, {})
    cases["newer"] = newer
    lacking = tmp_path / "lacking.pt"
    save_torch_file(lacking, "hexzero-snapshot", 1, {"network_config": {}})
    cases["lacking"] = lacking
    expected = {"missing": "does not exist", "torn": "is corrupt", "text": "is corrupt",
                "foreign": "is not a hexzero snapshot", "newer": "format version 99", "lacking": "lacks 'network_state'"}
    for name, path in cases.items():
        with pytest.raises(SnapshotError) as err:
            load_snapshot(path)
        message = str(err.value)
        assert expected[name] in message and str(path) in message and "\n" not in message, (name, message)
        with pytest.raises(SnapshotError):  # the same errors through the agent spec
            load_snapshot_agent({"kind": "snapshot", "path": str(path)})


def test_jsonl_skips_a_torn_last_line_and_rewrites_whole(tmp_path):
    path = tmp_path / "m.jsonl"
    for i in range(3):
        append_jsonl(path, {"i": i, "x": 0.1 * i})
    with open(path, "a") as f:
        f.write('{"i": 3, "x"')  # a writer killed mid-line
    assert read_jsonl(path) == [{"i": i, "x": 0.1 * i} for i in range(3)]
    write_jsonl(path, read_jsonl(path)[:2])
    assert read_jsonl(path) == [{"i": 0, "x": 0.0}, {"i": 1, "x": 0.1}]
    assert path.read_text().endswith("}\n") and not list(tmp_path.glob(".*tmp*"))


def hexzero_imports(path: Path, module_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text())
    nodes = tree.body if module_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hexzero"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("hexzero"))
    return found


def test_imports_flow_one_way():
    modules = {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
               for p in PACKAGE.rglob("*.py")}
    graph = {m: hexzero_imports(p, module_level_only=True) & set(modules) for m, p in modules.items()}
    # No cycle among module-level imports (depth-first search, colouring the path).
    state = {}

    def visit(module, path):
        state[module] = "on path"
        for dep in graph[module]:
            assert state.get(dep) != "on path", f"import cycle: {' -> '.join(path + [dep])}"
            if dep not in state:
                visit(dep, path + [dep])
        state[module] = "done"

    for module in graph:
        if module not in state:
            visit(module, [module])
    # Files and formats sit at the bottom; the engine draws nothing; nothing below the learner
    # knows about training (imports inside functions included).
    assert not hexzero_imports(modules["hexzero.storage"], False) & set(modules)
    assert "hexzero.draw" not in hexzero_imports(modules["hexzero.hex"], False)
    for low in ("hexzero.hex", "hexzero.mcts", "hexzero.network", "hexzero.selfplay", "hexzero.agents"):
        assert not {"hexzero.train", "hexzero.learner", "hexzero.run_folder"} & hexzero_imports(modules[low], False), low

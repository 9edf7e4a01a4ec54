"""Mistakes a user makes on the command line end in one line, `hexzero CMD: error: ...`, and
exit status 2, never a traceback; a file that is not a database is never turned into one."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import hexzero
from hexzero.cli import main as cli_main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def files(tmp_path):
    """A text file, an empty file, a folder and a missing path, by name."""
    (tmp_path / "notes.txt").write_text("not a database\n" * 20)
    (tmp_path / "empty.sqlite").touch()
    (tmp_path / "folder").mkdir()
    return {"text": tmp_path / "notes.txt", "empty": tmp_path / "empty.sqlite", "folder": tmp_path / "folder",
            "missing": tmp_path / "missing.sqlite"}


def command_name(argv) -> str:
    return " ".join(argv[:2] if argv[0] == "bench" else argv[:1])  # bench has its own subcommands


def one_line_error(capsys, argv) -> str:
    """Run the CLI in-process; the error line (after the 'hexzero CMD: error: ' prefix)."""
    assert cli_main([str(a) for a in argv]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    prefix = f"hexzero {command_name(argv)}: error: "
    assert lines[0].startswith(prefix)
    assert "Traceback" not in captured.err + captured.out
    return lines[0].removeprefix(prefix)


def test_version_is_the_package_version(capsys):
    assert cli_main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"hexzero {hexzero.__version__}"


def test_reproduce_out_on_an_existing_file(files, capsys):
    message = one_line_error(capsys, ["reproduce", "--out", files["text"]])
    assert message.startswith(f"argument --out: {files['text']} is a file, not a folder")


@pytest.mark.parametrize("command", ["ratings", "tournament"])
def test_db_that_is_not_a_database(files, capsys, command):
    argv = ["ratings", "--db", files["text"]] if command == "ratings" else \
        ["tournament", files["folder"], "--board", "3", "--db", files["text"]]
    if command == "tournament":  # the folder needs a snapshot for the database to be opened
        make_catalogue(files["folder"])
    message = one_line_error(capsys, argv)
    assert message == f"{files['text']} is not a tournament database (SQLite: file is not a database)"
    assert files["text"].read_text() == "not a database\n" * 20


@pytest.mark.parametrize("command", ["ratings", "tournament"])
def test_empty_db_file_is_not_made_a_database(files, capsys, command):
    argv = ["ratings", "--db", files["empty"]] if command == "ratings" else \
        ["tournament", files["folder"], "--board", "3", "--db", files["empty"]]
    if command == "tournament":
        make_catalogue(files["folder"])
    assert one_line_error(capsys, argv) == f"{files['empty']} is an empty file, not a tournament database"
    assert files["empty"].stat().st_size == 0


def test_an_sqlite_file_of_another_kind_is_named(tmp_path, capsys):
    import sqlite3

    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
    message = one_line_error(capsys, ["ratings", "--db", other])
    assert message == f"{other} is an SQLite database but not a tournament database (no agents table; it has recipes)"


def make_catalogue(run: Path) -> None:
    """A run folder whose catalogue lists one 3x3 snapshot (a file, never loaded here)."""
    (run / "snapshots").mkdir(parents=True, exist_ok=True)
    (run / "snapshots" / "snapshot-00.pt").write_bytes(b"x")
    (run / "snapshots.jsonl").write_text('{"file": "snapshots/snapshot-00.pt", "index": 0, "board": 3, '
                                         '"compute": 1.0}\n')


@pytest.mark.parametrize("argv, expected", [
    (["ratings", "--db", "{folder}"], "argument --db: {folder} is a folder, not a file"),
    (["ratings", "--db", "{missing}"], "argument --db: {missing} does not exist"),
    (["tournament", "{text}", "--board", "3"], "argument runs_dir: {text} is a file, not a folder"),
    (["tournament", "{missing}", "--board", "3"], "argument runs_dir: {missing} does not exist"),
    (["tournament", "{folder}", "--board", "3", "--db", "{folder}"], "argument --db: {folder} is a folder, not a file"),
    (["train", "--out", "{text}"], "argument --out: {text} is a file, not a folder"),
    (["train", "--out", "{text}/run"], "argument --out: {text}/run: {text} is a file, not a folder"),
    (["reproduce", "--config", "{folder}"], "argument --config: {folder} is a folder, not a file"),
    (["reproduce", "--config", "{missing}"], "argument --config: {missing} does not exist"),
    (["play", "{folder}"], "argument agent: {folder} is a folder, not a snapshot file"),
    (["measure", "{missing}"], "argument agent: snapshot {missing} does not exist"),
    (["show", "a1", "--png", "{folder}"], "argument --png: {folder} is a folder, not a file to write"),
    (["solve", "--text", "{missing}"], "argument --text: {missing} does not exist"),
    (["solve", "--board", "3", "a1", "--cache", "{text}"], "argument --cache: {text} is a file, not a folder"),
    (["bench", "engine", "--output", "{folder}"], "argument --output: {folder} is a folder, not a file to write"),
])
def test_path_arguments_of_the_wrong_kind(files, capsys, argv, expected):
    names = {k: str(v) for k, v in files.items()}
    message = one_line_error(capsys, [a.format(**names) for a in argv])
    assert message.startswith(expected.format(**names))
    assert message.endswith(f"(see hexzero {command_name(argv)} --help)")
    assert not files["missing"].exists()


def test_tournament_over_a_folder_without_snapshots(files, capsys):
    message = one_line_error(capsys, ["tournament", files["folder"], "--board", "3"])
    assert message == f"no 3x3 snapshots to rate under {files['folder']}: no run folders (a run folder holds snapshots.jsonl)"
    assert list(files["folder"].iterdir()) == []  # no database left behind
    make_catalogue(files["folder"] / "run")
    message = one_line_error(capsys, ["tournament", files["folder"], "--board", "4"])
    assert message == f"no 4x4 snapshots to rate under {files['folder']}: 1 run folders with 1 snapshots of other board sizes"


@pytest.mark.parametrize("argv, expected", [
    (["show", "--board", "3", "b2 b2"], "illegal move b2: the cell is occupied"),
    (["show", "--board", "3", "a1 b1 a2 b2 a3 c3"], "illegal move c3: the game is already over (black has won)"),
    (["solve", "--board", "3", "a1 c3 a1"], "illegal move a1: the cell is occupied"),
    (["show", "--board", "3", "b2 k9"], "cell 'k9' is off the 3x3 board (a1..c3)"),
])
def test_moves_are_judged_in_the_players_terms(capsys, argv, expected):
    assert one_line_error(capsys, argv) == expected


def test_the_installed_command_exits_2_with_one_line(files):
    """The real entry point, as a shell runs it: status 2 and one line on stderr."""
    result = subprocess.run([sys.executable, "-m", "hexzero.cli", "ratings", "--db", str(files["text"])], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"hexzero ratings: error: {files['text']} is not a tournament database (SQLite: file is not a database)"]

"""Every bad option value is refused at the edge: one line naming the fix, exit 2, no model loaded."""

import pytest

import mur_graph.cli.app as app
import mur_graph.cli.eval as cli_eval
import mur_graph.cli.study as cli_study
from mur_graph.cli import main

DATA = ["--dataset", "math.json"]

COMMANDS = {
    "solve": ["solve", "What is 17 + 25?"],
    "eval": ["eval", *DATA, "--out", "OUT"],
    "sweep": ["sweep", *DATA, "--out", "OUT"],
    "calibrate": ["calibrate", *DATA, "--out", "OUT", "--target-tokens", "100"],
    "study": ["study", "--data", "math.json", "--out", "OUT"],
}
SETTINGS = {
    "--gamma": ["0", "-0.5", "1.5", "nan", "inf"],
    "--alpha": ["1", "-0.1", "nan"],
    "--candidates": ["0", "-3"],
    "--max-steps": ["0"],
    "--max-step-tokens": ["0", "-1"],
    "--fallback-tokens": ["0"],
    "--critique-tokens": ["0"],
    "--plain-tokens": ["0", "-5"],
    "--temperature": ["-1", "11", "nan"],
    "--draft-temperature": ["-0.1", "nan", "inf"],
    "--token-budget": ["0", "-2"],
    "--critic-concurrency": ["0"],
    "--request-timeout": ["0", "-1", "nan"],
    "--max-retries": ["-1"],
    "--model": [""],
    "--critic": [" "],
    "--base-url": [""],
}
RUN_OPTIONS = {
    "--concurrency": ["0", "-1"],
    "--limit": ["0"],
    "--records": ["0", "-4"],
    "--level": ["", "x", "1-"],
}
CALIBRATE_OPTIONS = {
    "--dev": ["0"],
    "--holdout": ["-1"],
    "--tolerance": ["0", "nan", "-0.1"],
    "--max-trials": ["0"],
}
STUDY_OPTIONS = {
    "--limit": ["0"],
    "--records": ["0", "-4"],
    "--level": ["", "x", "3"],
    "--skip": ["-1", "1"],
    "--gammas": ["x", "0.5,2"],
    "--modes": ["fast", ""],
    "--methods": ["beam"],
    "--critic-kinds": ["oracle"],
}
CASES = [
    (command, flag, value)
    for command in COMMANDS
    for table in (
        SETTINGS,
        RUN_OPTIONS if command in ("eval", "sweep", "calibrate") else {},
        CALIBRATE_OPTIONS if command == "calibrate" else {},
        STUDY_OPTIONS if command == "study" else {},
    )
    for flag, values in table.items()
    if not (flag == "--gamma" and command in ("sweep", "calibrate"))  # they take --gammas / choose γ
    if not (flag == "--limit" and command == "calibrate")
    for value in values
]


@pytest.fixture
def no_model(monkeypatch):
    def refuse(*_args, **_kwargs):
        msg = "a model was loaded for an invalid command line"
        raise AssertionError(msg)

    monkeypatch.setattr(app, "load_models", refuse)
    monkeypatch.setattr(cli_eval, "load_models", refuse)
    monkeypatch.setattr(cli_study, "load_models", refuse)


@pytest.mark.parametrize(("command", "flag", "value"), CASES)
def test_an_invalid_option_value_ends_in_one_line_and_exit_2(
    command, flag, value, no_model, tmp_path, capsys
):
    folder = tmp_path
    (folder / "math.json").write_text('[{"problem": "1+1?", "answer": "2", "level": 1}]')
    argv = [str(folder / a) if a in ("math.json", "OUT") else a for a in COMMANDS[command]]
    assert main([*argv, f"{flag}={value}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["eval", "sweep", "calibrate", "study"])
def test_an_out_path_that_is_a_file_is_refused_naming_a_folder(command, no_model, tmp_path, capsys):
    (tmp_path / "math.json").write_text('[{"problem": "1+1?", "answer": "2"}]')
    (tmp_path / "taken").write_text("")
    argv = [str(tmp_path / a) if a == "math.json" else a for a in COMMANDS[command]]
    argv[argv.index("OUT")] = str(tmp_path / "taken")
    assert main(argv) == 2
    assert "is a file; pass a folder" in capsys.readouterr().err


def test_report_refuses_a_folder_as_its_markdown_file_and_a_count_below_one(tmp_path, capsys):
    assert main(["report", str(tmp_path), "--out", str(tmp_path)]) == 2
    assert "is a folder; pass the Markdown file" in capsys.readouterr().err
    assert main(["report", str(tmp_path), "--questions", "0"]) == 2
    assert "--questions must be an integer >= 1" in capsys.readouterr().err


def test_the_table_of_cases_covers_every_numeric_setting_of_solve():
    from mur_graph.cli import build_parser

    solve = build_parser()._subparsers._group_actions[0].choices["solve"]  # type: ignore[union-attr]
    numeric = {
        action.option_strings[-1]
        for action in solve._actions
        if action.type in (int, float) and action.option_strings
    }
    assert numeric - set(SETTINGS) <= {"--seed"}, "a numeric option has no invalid value in the table"

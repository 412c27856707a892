"""Command-line errors that need no model: they must be clear and exit non-zero."""

import pytest

from mur_graph.cli import build_parser, main
from mur_graph.cli.options import UsageError, config_from_args
from mur_graph.config import EMBEDDED_DEMO_LIMITS


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_an_empty_question_is_a_clear_error(question, capsys):
    assert main(["solve", question]) == 2
    err = capsys.readouterr().err
    assert "the question is empty" in err and 'mur-graph solve "' in err


def test_an_invalid_setting_names_the_valid_range(capsys):
    assert main(["solve", "What is 2 + 2?", "--gamma", "0"]) == 2
    assert "gamma=0.0: must be a number in (0, 1]" in capsys.readouterr().err


def test_an_unknown_mode_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["solve", "q", "--mode", "always"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'always'" in capsys.readouterr().err


def test_embedded_runs_use_short_limits_unless_given():
    args = build_parser().parse_args(["solve", "q", "--max-steps", "3", "--gamma", "0.9", "--seed", "5"])
    config = config_from_args(args)
    assert config.max_steps == 3
    assert config.max_step_tokens == EMBEDDED_DEMO_LIMITS["max_step_tokens"]
    assert (config.gamma, config.seed) == (0.9, 5)
    hub = config_from_args(build_parser().parse_args(["solve", "q", "--model", "Qwen/Qwen3-1.7B"]))
    assert (hub.max_steps, hub.max_step_tokens) == (20, 2048)


def test_a_server_url_without_a_model_name_is_a_clear_error(capsys):
    assert main(["solve", "q", "--base-url", "http://127.0.0.1:8000/v1"]) == 2
    assert "--base-url needs --model" in capsys.readouterr().err


def test_eval_with_a_missing_dataset_file_is_a_clear_error(capsys, tmp_path):
    assert main(["eval", "--dataset", str(tmp_path / "nope.json"), "--out", str(tmp_path / "o")]) == 2
    assert "nope.json" in capsys.readouterr().err


def test_eval_with_a_truncated_dataset_is_a_clear_error(capsys, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('[{"input": "What is 1 + 1?", "target": "2"}, {"inp')
    assert main(["eval", "--dataset", str(broken), "--out", str(tmp_path / "o")]) == 2
    assert "broken.json" in capsys.readouterr().err


def test_report_on_an_empty_folder_says_what_to_run(capsys, tmp_path):
    assert main(["report", str(tmp_path)]) == 2
    assert "run mur-graph eval --out DIR first" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "no such results folder" in capsys.readouterr().err


def test_sweep_rejects_bad_gammas(capsys, tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text('{"input": "What is 1 + 1?", "target": "2"}\n')
    assert main(["sweep", "--dataset", str(data), "--out", str(tmp_path), "--gammas", "0.5,high"]) == 2
    assert "--gammas must be comma-separated numbers" in capsys.readouterr().err


def test_any_mur_error_is_one_line_and_exit_1_and_a_usage_error_is_one(monkeypatch, capsys):
    from mur_graph.cli import app
    from mur_graph.errors import MURError

    class ServerGone(MURError):
        pass

    def fail(args):
        msg = "the server at http://127.0.0.1:9/v1 is gone; start it, or drop --base-url"
        raise ServerGone(msg)

    monkeypatch.setattr(app, "load_models", fail)
    assert main(["solve", "What is 1 + 1?"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "error: the server at http://127.0.0.1:9/v1 is gone; start it, or drop --base-url"
    assert issubclass(UsageError, MURError)  # caught before MURError: exit 2, as the tests above


def test_a_cot_cell_is_the_same_whatever_the_critic_kind():
    from mur_graph.cli.options import method_settings_from_args
    from mur_graph.config import settings_record
    from mur_graph.eval.results import results_name

    args = build_parser().parse_args(
        ["solve", "q", "--critic-kind", "confidence", "--calculator", "--step-format", "prompted"]
    )
    cot, mur = config_from_args(args, mode="cot"), config_from_args(args, mode="mur")
    own_cot = method_settings_from_args(args, mode="cot")
    own_mur = method_settings_from_args(args, mode="mur")
    assert own_cot == {} and own_mur == {"critic_kind": "confidence"}
    assert cot.calculator  # the calculator does change CoT's steps
    # so `mur-graph sweep --critic-kind confidence` resumes the paired runner's CoT file
    cot_record = settings_record(cot, "guided_search", own_cot)
    assert results_name("math_500", cot_record) == "math_500__guided_search__cot__calc.jsonl"
    mur_record = settings_record(mur, "guided_search", own_mur)
    assert (
        results_name("math_500", mur_record) == "math_500__guided_search__confidence__mur__g0.8__calc.jsonl"
    )


def test_critique_tokens_are_the_critic_methods_own_setting_with_its_demo_limit_on_local_models():
    from mur_graph.cli.options import method_settings_from_args

    def own(*argv):
        return method_settings_from_args(build_parser().parse_args(["solve", "q", *argv]))

    assert own("--method", "critic") == {"critique_tokens": 64}  # the local models' demo limit
    assert own("--method", "critic", "--critique-tokens", "12") == {"critique_tokens": 12}
    assert own("--method", "critic_refine", "--model", "Qwen/Qwen3-1.7B") == {}  # its default, 1024
    assert own("--critique-tokens", "12") == {}  # guided search has no critique
    assert own("--method", "phi") == {}
    with pytest.raises(UsageError, match=r"critique_tokens=0: must be an integer >= 1"):
        own("--method", "phi", "--critique-tokens", "0")

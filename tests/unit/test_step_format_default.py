"""The default step format is `natural` (issue #26); the paper's `prompted` is `paper_config`'s.

Results files keep their names and resume as before: `prompted` is the format names leave out,
and a record written before `step_format` existed (the `prompted` days) reads as `prompted`.
"""

import pytest

from mur_graph import MURConfig, paper_config
from mur_graph.cli import build_parser
from mur_graph.cli.options import config_from_args
from mur_graph.config import EMBEDDED_DEMO_LIMITS, STEP_FORMAT_NAMES, settings_record
from mur_graph.eval.results import WRITTEN_WITH, ResultsFile, results_name, variant_parts


def test_the_default_step_format_is_natural():
    assert MURConfig().step_format == "natural"


@pytest.mark.parametrize("method", [None, "guided_search", "critic", "phi"])
def test_paper_config_is_the_papers_prompted_format_unless_told_otherwise(method):
    assert paper_config(method).step_format == "prompted"
    assert paper_config(method, step_format="natural").step_format == "natural"
    assert paper_config(method, step_format="blank_line").step_format == "blank_line"


@pytest.mark.parametrize(
    "argv", [[], ["--method", "critic"], ["--method", "phi", "--model", "m", "--base-url", "http://x/v1"]]
)
def test_the_cli_default_is_natural_for_every_method_and_prompted_is_asked_for(argv):
    def config(*extra):
        return config_from_args(build_parser().parse_args(["solve", "q", *argv, *extra]))

    assert config().step_format == "natural"  # not paper_config's prompted
    assert config("--step-format", "prompted").step_format == "prompted"


def test_the_cli_keeps_the_methods_paper_gamma_with_either_format():
    for fmt in ("natural", "prompted"):
        args = build_parser().parse_args(["solve", "q", "--method", "critic", "--step-format", fmt])
        # the local default model: the demo limits
        assert config_from_args(args) == paper_config("critic", **EMBEDDED_DEMO_LIMITS, step_format=fmt)


@pytest.mark.parametrize("mode", ["cot", "per_step", "mur"])
def test_names_leave_out_prompted_and_name_the_other_formats_whatever_the_default(mode):
    named = {fmt: results_name("m", MURConfig(mode=mode, step_format=fmt)) for fmt in STEP_FORMAT_NAMES}
    assert "__f" not in named["prompted"]
    assert named["natural"].endswith("__fnatural.jsonl")
    assert named["blank_line"].endswith("__fblank_line.jsonl")
    assert results_name("m", MURConfig(mode=mode)) == named["natural"]  # the default is named
    assert all("fprompted" not in name for name in named.values())


def test_plain_mode_names_no_format():
    names = {results_name("m", MURConfig(mode="plain", step_format=fmt)) for fmt in STEP_FORMAT_NAMES}
    assert names == {"m__guided_search__plain.jsonl"}


def test_a_record_lacking_the_step_format_reads_as_prompted():
    assert WRITTEN_WITH["step_format"] == "prompted"
    old = {k: v for k, v in MURConfig(mode="cot").to_dict().items() if k != "step_format"}
    assert results_name("m", old) == "m__guided_search__cot.jsonl"
    assert variant_parts(old) == ()
    assert variant_parts({**old, "step_format": "natural"}) == ("fnatural",)


def test_a_record_lacking_the_step_format_resumes_only_a_prompted_run(tmp_path):
    old = {k: v for k, v in MURConfig(mode="cot").to_dict().items() if k != "step_format"}
    with ResultsFile(tmp_path / "r.jsonl") as results:
        results.append({"id": "q0", "status": "ok", "settings": {**old, "method": "guided_search"}})
        prompted = settings_record(MURConfig(mode="cot", step_format="prompted"), "guided_search")
        assert results.finished_ids(prompted) == {"q0"}
        with pytest.raises(ValueError, match="step_format: 'prompted' there, 'natural' now"):
            results.finished_ids(settings_record(MURConfig(mode="cot"), "guided_search"))


def test_a_plain_run_resumes_whatever_format_it_recorded(tmp_path):
    """Plain mode has no step format: its name leaves it out, and so does resuming."""
    with ResultsFile(tmp_path / "r.jsonl") as results:
        written = MURConfig(mode="plain", step_format="prompted")
        results.append({"id": "q0", "status": "ok", "settings": settings_record(written, "guided_search")})
        assert results.finished_ids(MURConfig(mode="plain")) == {"q0"}  # natural now
        with pytest.raises(ValueError, match="plain_tokens"):
            results.finished_ids(MURConfig(mode="plain", plain_tokens=512))

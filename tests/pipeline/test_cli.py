import os
import subprocess
import sys

import pytest

from pipeline.cli import UsageError, _beam_arguments, main


def test_negative_extract_processes_is_a_usage_error(sample_warc, tmp_path, capsys):
    output = tmp_path / "out"
    args = ["run", "--input", sample_warc, "--output", str(output), "--extract-processes", "-1"]
    assert main(args) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error
    assert "--extract-processes must be 0 (automatic) or more" in error
    assert os.listdir(tmp_path) == []  # nothing started: no output, no staging directory


def test_importing_the_cli_leaves_beam_for_later():
    # Importing Beam logs (e.g. about missing Google Cloud libraries); before main() sets up
    # logging that would install Python's default handler and hide the run's progress lines.
    code = "import sys, pipeline.cli; print('apache_beam' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    "given, expected",
    [
        (["--dry_run"], ["--dry_run=True"]),
        (
            ["--", "--dry_run", "--runner=DataflowRunner"],
            ["--dry_run=True", "--runner=DataflowRunner"],
        ),
        (["--dry_run", "false", "--project=p"], ["--project=p"]),
        (["--dry_run=False"], []),
        (["--dry_run=TRUE"], ["--dry_run=True"]),
    ],
)
def test_dry_run_is_read_strictly(given, expected):
    # Beam alone ignores a bare --dry_run and runs the real job.
    assert _beam_arguments(given) == expected


def test_a_dry_run_value_beam_cannot_read_is_a_usage_error():
    with pytest.raises(UsageError, match="--dry_run takes True or False"):
        _beam_arguments(["--dry_run=yes"])


def test_a_bare_dry_run_runs_nothing(sample_warc, tmp_path, capsys):
    output = tmp_path / "out"
    assert main(["run", "--input", sample_warc, "--output", str(output), "--dry_run"]) == 0
    assert "dry run" in capsys.readouterr().out
    assert not output.exists()


@pytest.mark.parametrize(
    "cores, files, mode, workers, extract",
    [
        (2, 2, "in_memory", 1, 2),  # measured fastest on two cores
        (1, 3, "in_memory", 1, 1),
        (8, 3, "multi_processing", 3, 1),  # a worker per file, each with one extraction process
        (8, 1, "in_memory", 1, 8),
    ],
)
def test_local_default_mode(monkeypatch, cores, files, mode, workers, extract):
    from apache_beam.options.pipeline_options import DirectOptions

    from pipeline.cli import _beam_options, _extract_processes

    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    options = _beam_options([], files)
    direct = options.view_as(DirectOptions)
    assert (direct.direct_running_mode, direct.direct_num_workers) == (mode, workers)
    assert _extract_processes(0, options) == extract
    assert _extract_processes(3, options) == 3  # asked for: as asked


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--lanuages", "de"], "unknown option --lanuages (did you mean --languages?)"),
        (["--runer=DataflowRunner"], "unknown option --runer (did you mean --runner?)"),
        (["--no_such_option"], "unknown option --no_such_option"),
        (["stray"], "unexpected argument(s): stray"),
        (["--direct_num_workers"], "--direct_num_workers: expected one argument"),
    ],
)
def test_an_option_neither_macrodata_nor_beam_knows_stops_the_run(
    extra, message, sample_warc, tmp_path, capsys
):
    output = tmp_path / "out"
    assert main(["run", "--input", sample_warc, "--output", str(output), *extra]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error
    assert message in error
    assert os.listdir(tmp_path) == []  # nothing ran: no output, no staging directory


def test_beam_options_of_any_runner_still_pass(sample_warc, tmp_path, capsys):
    output = tmp_path / "out"
    beam_options = [
        "--direct_num_workers=1",
        "--project=p",
        "--flink_version=1.19",
        "--spark_version=3",
        "--save_main_session",
    ]
    args = ["run", "--input", sample_warc, "--output", str(output), *beam_options, "--dry_run"]
    assert main(args) == 0
    assert "dry run" in capsys.readouterr().out

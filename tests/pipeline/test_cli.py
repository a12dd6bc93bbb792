import os

from pipeline.cli import main


def test_negative_extract_processes_is_a_usage_error(sample_warc, tmp_path, capsys):
    output = tmp_path / "out"
    args = ["run", "--input", sample_warc, "--output", str(output), "--extract-processes", "-1"]
    assert main(args) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error
    assert "--extract-processes must be 0 (automatic) or more" in error
    assert os.listdir(tmp_path) == []  # nothing started: no output, no staging directory

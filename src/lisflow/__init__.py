"""lisflow: declarative DFT/AIMD/MD/ML workflows for lithium-sulfur battery chemistry."""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"

PACKAGE_DIR = Path(__file__).resolve().parent
#: The repository root in a checkout (meaningless in an installed wheel: use the *_DIR below).
REPO_ROOT = PACKAGE_DIR.parents[1]
#: Shipped static data (studies, presets, force fields, prototypes, profiles). In a checkout
#: ``_data/*`` are symlinks to the repository's top-level ``inputs/``, ``workflows/`` and
#: ``configs/``; a built wheel carries real copies, so an installed lisflow works anywhere.
DATA_DIR = PACKAGE_DIR / "_data"
INPUTS_DIR = DATA_DIR / "inputs"
WORKFLOWS_DIR = DATA_DIR / "workflows"
CONFIGS_DIR = DATA_DIR / "configs"


def describe() -> str:
    """``git describe --tags --always --dirty`` of the lisflow checkout this runs from, else
    (an installed lisflow, or git missing) :data:`__version__`; computed once per process."""
    global _DESCRIBED
    if _DESCRIBED is None:
        _DESCRIBED = _git_describe() or __version__
    return _DESCRIBED


_DESCRIBED: str | None = None


def _git_describe() -> str | None:
    import subprocess

    if not (REPO_ROOT / ".git").exists() or not (REPO_ROOT / "pyproject.toml").is_file():
        return None
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "describe", "--tags", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None

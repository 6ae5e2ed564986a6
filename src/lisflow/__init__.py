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

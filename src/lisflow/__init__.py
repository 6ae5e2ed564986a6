"""lisflow: declarative DFT/AIMD/MD/ML workflows for lithium-sulfur battery chemistry."""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"

#: Repository root when running from a checkout (static data lives in ``inputs/``).
PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parents[1]
INPUTS_DIR = REPO_ROOT / "inputs"
WORKFLOWS_DIR = REPO_ROOT / "workflows"
CONFIGS_DIR = REPO_ROOT / "configs"

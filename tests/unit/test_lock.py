"""`make setup` installs exactly the versions in requirements.lock (issue: reproducible installs)."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

LOCK = Path(__file__).resolve().parents[2] / "requirements.lock"


def _locked() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep, f"requirements.lock: {line!r} is not an exact pin"
        pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_lock_pins_every_direct_dependency_exactly() -> None:
    pins = _locked()
    for name in ("pymatgen", "fireworks", "custodian", "sqlalchemy", "torch", "chgnet", "sevenn"):
        assert name in pins, name


def test_installed_versions_equal_the_lock() -> None:
    installed = {
        re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower(): dist.version
        for dist in metadata.distributions()
    }
    mismatched = {
        name: (version, installed.get(name))
        for name, version in _locked().items()
        if installed.get(name) != version
    }
    assert not mismatched, f"installed != locked: {mismatched}"

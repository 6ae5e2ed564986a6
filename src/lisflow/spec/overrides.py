"""Engine-parameter overrides of a study (``overrides``, ``overrides_by_task/role``): typed
per tag, finite, bounded, and free of characters that would inject lines or statements into
INCAR or cp2k.inp (newline, ``;`` statement separator, ``#``/``!`` comments, CP2K ``@``
directives and ``$`` variables).

Ranges are sanity bounds (no physical calculation needs more), not recommendations; the
allowed values of enumerated tags are those of the VASP wiki (INCAR tag pages) and the
CP2K 2023.1 input reference.
"""

from __future__ import annotations

import math
import re
from typing import Any

#: Name of an engine parameter: a VASP tag or a dotted CP2K path (``MGRID.CUTOFF``).
NAME = re.compile(r"[A-Z][A-Z0-9_]*(\.[A-Z][A-Z0-9_]*)*")
#: Characters a string value may hold (no ; # ! @ $ = or control characters).
SAFE_TEXT = re.compile(r"[A-Za-z0-9_.+\-/ ,:()*]*")
MAX_TEXT = 100
MAX_LIST = 10_000
MAX_NAME = 100
#: Largest magnitude of any number in an override.
MAX_NUMBER = 1.0e6

#: Integer tags: (min, max) or a set of allowed values.
INT_TAGS: dict[str, tuple[int, int] | frozenset[int]] = {
    "ISPIN": frozenset({1, 2}),
    "NSW": (0, 100_000),
    "IBRION": frozenset({-1, 0, 1, 2, 3, 5, 6, 7, 8, 44}),
    "ISIF": (0, 8),
    "ISMEAR": (-5, 20),
    "NELM": (1, 10_000),
    "NELMIN": (1, 10_000),
    "NELMDL": (-100, 100),
    "LORBIT": frozenset({0, 1, 2, 5, 10, 11, 12, 13, 14}),
    "IVDW": frozenset({0, 1, 10, 11, 12, 2, 20, 21, 202, 4, 263}),
    "ISYM": (-1, 3),
    "IDIPOL": (1, 4),
    "ICHARG": (0, 12),
    "ISTART": (0, 3),
    "NBANDS": (1, 100_000),
    "NCORE": (1, 1024),
    "NPAR": (1, 1024),
    "KPAR": (1, 1024),
    "LMAXMIX": (2, 6),
    "NEDOS": (1, 100_000),
    "IALGO": (-100, 100),
    # CP2K (last component of the dotted path)
    "STEPS": (0, 10_000_000),
    "MAX_SCF": (1, 10_000),
    "MAX_ITER": (0, 1_000_000),
    "NGRIDS": (1, 10),
    "MULTIPLICITY": (1, 20),
    "CHARGE": (-100, 100),
}
#: Float tags: open lower bound (> lo) and closed upper bound (<= hi).
POSITIVE_FLOAT_TAGS: dict[str, float] = {
    "ENCUT": 5000.0,  # eV
    "ENAUG": 20000.0,  # eV
    "SIGMA": 10.0,  # eV
    "POTIM": 10.0,  # fs or scaling
    "EDIFF": 1.0,  # eV
    "CUTOFF": 10000.0,  # Ry (CP2K MGRID)
    "REL_CUTOFF": 1000.0,  # Ry
    "TIMESTEP": 10.0,  # fs
    "TEMPERATURE": 10000.0,  # K
    "EPS_SCF": 1.0,
    "EPS_DEFAULT": 1.0,
}
#: Float tags of either sign: |value| <= bound.
SIGNED_FLOAT_TAGS: dict[str, float] = {"EDIFFG": 10.0, "TEBEG": 1e5, "TEEND": 1e5}
BOOL_TAGS = frozenset(
    {"LCHARG", "LAECHG", "LWAVE", "LDIPOL", "LASPH", "LVTOT", "LVHAR", "LELF", "LPLANE", "LSORBIT"}
)


def _text_ok(value: str) -> bool:
    return len(value) <= MAX_TEXT and SAFE_TEXT.fullmatch(value) is not None


def _scalar_problem(value: Any) -> str | None:
    """Why a scalar cannot be written into an input file (None: it can)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if not math.isfinite(value) or abs(value) > MAX_NUMBER:
            return f"must be a finite number with |value| <= {MAX_NUMBER:g}"
        return None
    if isinstance(value, str):
        if not _text_ok(value):
            return (
                f"text must be <= {MAX_TEXT} characters of letters, digits, space and _ . + - "
                "/ , : ( ) * (no newline ; # ! @ $ =)"
            )
        return None
    return f"must be a number, true/false or text, not a {type(value).__name__}"


def value_problem(name: str, value: Any) -> str | None:
    """Why ``value`` is not valid for the tag ``name`` (upper-case; None: it is)."""
    last = name.rsplit(".", 1)[-1]
    if isinstance(value, list):
        if len(value) > MAX_LIST:
            return f"a list of at most {MAX_LIST} values"
        for item in value:
            if isinstance(item, list | dict) or (problem := _scalar_problem(item)):
                return f"list items {problem or 'must be numbers or text'}"
        return None
    if isinstance(value, dict):
        return "must be a number, true/false or text, not a mapping (use a dotted name)"
    if problem := _scalar_problem(value):
        return problem
    if value is None:
        return None  # removes the tag from the preset
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if last in INT_TAGS:
        allowed = INT_TAGS[last]
        if not isinstance(value, int) or isinstance(value, bool):
            return "must be an integer"
        if isinstance(allowed, frozenset) and value not in allowed:
            return f"must be one of {', '.join(map(str, sorted(allowed)))}"
        if isinstance(allowed, tuple) and not allowed[0] <= value <= allowed[1]:
            return f"must be an integer in [{allowed[0]}, {allowed[1]}]"
    elif last in POSITIVE_FLOAT_TAGS:
        if number is None or not 0 < number <= POSITIVE_FLOAT_TAGS[last]:
            return f"must be a number > 0 and <= {POSITIVE_FLOAT_TAGS[last]:g}"
    elif last in SIGNED_FLOAT_TAGS:
        if number is None or abs(number) > SIGNED_FLOAT_TAGS[last]:
            return f"must be a number with |value| <= {SIGNED_FLOAT_TAGS[last]:g}"
    elif last in BOOL_TAGS and not isinstance(value, bool):
        return "must be true or false"
    return None


def check_overrides(tags: Any) -> dict[str, Any]:
    """Validate an overrides mapping; raise ``ValueError`` (one line, naming the tag)."""
    if not isinstance(tags, dict):
        raise ValueError("overrides must be a mapping of parameter name -> value")
    for key, value in tags.items():
        name = str(key).upper()
        if len(name) > MAX_NAME or NAME.fullmatch(name) is None:
            shown = repr(str(key)[:40])
            raise ValueError(f"{shown} is not an engine parameter name (letters, digits, _ .)")
        if problem := value_problem(name, value):
            raise ValueError(f"{key} {problem}, got {short_repr(value)}")
    return tags


def short_repr(value: Any, width: int = 40) -> str:
    """``repr(value)`` cut to ``width`` characters (never a whole spec in an error line)."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."

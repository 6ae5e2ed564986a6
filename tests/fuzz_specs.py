"""Seeded mutation fuzzing of the shipped study specs (``workflows/*.yaml``), in-process.

``mutants(seed, n)`` derives ``n`` mutated study files (bytes) from the shipped specs: values
replaced by extremes (NaN, inf, 1e300, 10^12, negative, wrong type), names by ``.``/``..``/
paths/over-long/control characters, overrides by ill-typed or injected values, keys deleted or
added, list entries duplicated, and raw-text damage (non-UTF-8, truncation, deep nesting,
alias bombs, huge files). ``run_case`` validates and plans one mutant like ``lisflow dry-run``
does (``load_spec`` then ``plan``) under a time bound; a refusal is re-checked through
``dry_run`` itself, which must write nothing. ``python tests/fuzz_specs.py [N]`` prints the
table of outcomes (used for the before/after numbers of issue 10).
"""

from __future__ import annotations

import copy
import math
import random
import signal
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / "workflows"
#: Seconds one case may take (validation + planning) before it counts as a hang.
CASE_LIMIT_S = 20.0
MAX_LINE = 200

NUMBERS = [
    math.nan, math.inf, -math.inf, -1, 0, 1e300, -1e300, 10**12, 10**30, 2.5, 1e-300, True,
    "12", None, [], {"a": 1}, 3, 1e9,
]
STRINGS = [
    ".", "..", "a/b", "../../etc", "x" * 300, "a" * 101, "ok\nENCUT = -5", "x\x00y",
    "@INCLUDE /etc/passwd", "", "caf\u00e9", "tab\there", 5, None, ["a"], "\u202e",
]
TAGS = [
    ("ENCUT", math.nan), ("ENCUT", math.inf), ("ENCUT", 1e300), ("ENCUT", "500\nENCUT = -5"),
    ("ISPIN", 3), ("ISPIN", 2), ("NSW", 2.5), ("NSW", -1), ("NSW", 10**12), ("EDIFF", math.nan),
    ("GGA", {"x": 1}), ("GGA", "PE\n@INCLUDE /etc/passwd"), ("SIGMA", -0.1), ("ISMEAR", 7.5),
    ("MGRID.CUTOFF", math.inf), ("MGRID.CUTOFF", 400), ("FOO", [1, 2]), ("IVDW", None),
    ("LCHARG", "yes\nNSW = 0"), ("KPOINT_SET", "x" * 5000), ("MD.STEPS", 1e300),
    ("TEMPERATURE", math.nan), ("NELM", 0), ("LORBIT", 11), ("a b", 1),
]


@dataclass
class Outcome:
    label: str
    kind: str  # accepted | refused | traceback | hang | bad_refusal | wrote_on_refusal
    detail: str = ""


@dataclass
class Tally:
    outcomes: list[Outcome] = field(default_factory=list)

    def counts(self) -> Counter:
        return Counter(o.kind for o in self.outcomes)

    def of(self, kind: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.kind == kind]


def shipped_specs() -> dict[str, dict]:
    return {p.name: yaml.safe_load(p.read_text()) for p in sorted(WORKFLOWS.glob("*.yaml"))}


def _paths(node, prefix=()):
    """Every (path, value) below ``node`` (dict keys and list indices)."""
    yield prefix, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


def _set(data, path, value):
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _structured(rng: random.Random, data: dict) -> tuple[str, dict]:
    data = copy.deepcopy(data)
    paths = [(p, v) for p, v in _paths(data) if p]
    path, value = rng.choice(paths)
    op = rng.random()
    where = ".".join(map(str, path))
    if op < 0.08:
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        del parent[path[-1]]
        return f"del {where}", data
    if op < 0.14:
        container = data
        for part in path[:-1]:
            container = container[part]
        if isinstance(container, list):
            container.append(copy.deepcopy(container[path[-1]]))
            return f"dup {where}", data
        if isinstance(container, dict):
            container["zz_unknown"] = 1
            return f"unknown key near {where}", data
    if op < 0.30:
        tag, tag_value = rng.choice(TAGS)
        target = rng.choice(["overrides", "overrides_by_task", "overrides_by_role"])
        if target == "overrides":
            data.setdefault("overrides", {})[tag] = tag_value
        elif target == "overrides_by_task":
            data.setdefault("overrides_by_task", {})[rng.choice(["relax", "static"])] = {
                tag: tag_value
            }
        else:
            data.setdefault("overrides_by_role", {})["slab"] = {tag: tag_value}
        return f"{target} {tag}={tag_value!r}"[:120], data
    if isinstance(value, bool) or value is None:
        new = rng.choice(NUMBERS + STRINGS)
    elif isinstance(value, int | float):
        new = rng.choice(NUMBERS)
    elif isinstance(value, str):
        new = rng.choice(STRINGS + NUMBERS[:4])
    elif isinstance(value, list):
        new = rng.choice(
            [[], [10**9, 10**9, 1], [math.nan] * 3, value * 50, [value], "x", None, [1.0, 2.0]]
        )
    else:
        new = rng.choice([{}, [], "x", None, {"a": {"b": {"c": 1}}}])
    _set(data, path, new)
    return f"{where}={new!r}"[:120], data


def _raw(rng: random.Random, text: str) -> tuple[str, bytes]:
    data = text.encode()
    op = rng.randrange(9)
    if op == 0:
        cut = rng.randrange(1, len(data))
        return f"truncated at {cut}", data[:cut]
    if op == 1:
        at = rng.randrange(len(data))
        return f"non-UTF-8 byte at {at}", data[:at] + b"\xff\xfe" + data[at:]
    if op == 2:
        depth = rng.choice([100, 1000, 5000, 20000])
        return f"nesting {depth}", data + b"\ndescription: " + b"[" * depth + b"]" * depth + b"\n"
    if op == 3:
        bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}" + f", *{chr(97 + i)}" * 9 + "]\n"
            for i in range(8)
        )
        head = "overrides:\n  BOMB: *i\n"
        return "alias bomb in overrides", (bomb + text + head).encode()
    if op == 4:
        return "50 MB spec", data + b"\n# " + b"x" * (50 * 2**20) + b"\n"
    if op == 5:
        return "tab indentation", data.replace(b"\n  ", b"\n\t")
    if op == 6:
        return "duplicate key", data + b"\nstudy: other_study\n"
    if op == 7:
        return "not a mapping", b"- a\n- b\n"
    return "empty file", b""


def mutants(seed: int = 20261202, n: int = 1000) -> list[tuple[str, bytes]]:
    """``n`` (label, file bytes) mutants of the shipped specs, reproducible from ``seed``."""
    rng = random.Random(seed)
    specs = shipped_specs()
    texts = {p.name: p.read_text() for p in sorted(WORKFLOWS.glob("*.yaml"))}
    names = sorted(specs)
    out = []
    for i in range(n):
        name = names[i % len(names)]
        if rng.random() < 0.12:
            label, data = _raw(rng, texts[name])
        else:
            label, mutated = _structured(rng, specs[name])
            if rng.random() < 0.3:  # a second mutation on top
                label2, mutated = _structured(rng, mutated)
                label += f" + {label2}"
            data = yaml.safe_dump(mutated, allow_unicode=True, sort_keys=False).encode()
        out.append((f"{name}: {label}", data))
    return out


class Hang(BaseException):
    """The case took longer than ``CASE_LIMIT_S``."""


def _alarm(signum, frame):
    raise Hang()


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def run_case(label: str, data: bytes, workdir: Path, plan_it: bool = True) -> Outcome:
    """Validate and plan one mutant (``load_spec`` + ``plan``); a refusal must be one line of
    at most ``MAX_LINE`` characters naming a field, and ``dry_run`` must then write nothing."""
    from lisflow.errors import InputError
    from lisflow.spec import load_spec
    from lisflow.workflows.dryrun import dry_run
    from lisflow.workflows.plan import plan

    spec_file = workdir / "study.yaml"
    spec_file.write_bytes(data)
    before = _files(workdir)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, CASE_LIMIT_S)
    try:
        try:
            spec = load_spec(spec_file)
            if plan_it:
                plan(spec, spec_file)
        except InputError as exc:
            text = str(exc)
            if "\n" in text or len(text) > MAX_LINE or not exc.field or exc.field == "<root>":
                return Outcome(label, "bad_refusal", text[:300])
            try:
                dry_run([spec_file], workdir / "out", progress=False)
            except InputError:
                pass
            else:
                return Outcome(label, "bad_refusal", "dry_run accepted what plan refused")
            written = _files(workdir) - before
            if written:
                return Outcome(label, "wrote_on_refusal", ", ".join(sorted(written))[:300])
            return Outcome(label, "refused", text)
        except Hang:
            raise
        except BaseException as exc:  # noqa: BLE001 - everything else is a traceback
            if isinstance(exc, KeyboardInterrupt):
                raise
            tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
            return Outcome(label, "traceback", tb[:300])
        return Outcome(label, "accepted")
    except Hang:
        return Outcome(label, "hang")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        for path in sorted(workdir.rglob("*"), reverse=True):
            if path.is_dir() and not path.is_symlink():
                path.rmdir() if not any(path.iterdir()) else None
        _clean(workdir)


def _clean(workdir: Path) -> None:
    import shutil

    for path in workdir.iterdir():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def fuzz(seed: int, n: int, workdir: Path, plan_per_spec: int | None = None) -> Tally:
    """Run ``n`` mutants. ``plan_per_spec``: plan at most that many mutants of each shipped
    adsorption spec (planning those builds slabs: ~1 s each); None plans every mutant."""
    tally = Tally()
    workdir.mkdir(parents=True, exist_ok=True)
    planned: Counter = Counter()
    for label, data in mutants(seed, n):
        base = label.split(":", 1)[0]
        costly = "adsorption" in base
        plan_it = plan_per_spec is None or not costly or planned[base] < plan_per_spec
        planned[base] += costly
        tally.outcomes.append(run_case(label, data, workdir, plan_it))
    return tally


if __name__ == "__main__":
    import sys
    import tempfile
    import time
    import warnings

    warnings.filterwarnings("ignore")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        tally = fuzz(20261202, n, Path(tmp))
    counts = tally.counts()
    print(f"cases {n}: {dict(counts)} in {time.time() - start:.0f} s")
    for kind in ("traceback", "hang", "bad_refusal", "wrote_on_refusal"):
        for o in tally.of(kind)[:40]:
            print(f"{kind}: {o.label} -> {o.detail}")

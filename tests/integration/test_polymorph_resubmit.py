"""Resubmitting a polymorph study never leaves its formation-energy (E_f) Firework waiting or
fizzled forever: a FIZZLED relaxation is rerun with the E_f waiting on it, a relaxation whose
Firework FIZZLED *after* its result was stored is rerun in place (reusing the stored result,
no engine run) so the E_f behind it runs, and a FIZZLED E_f is rerun (as E_ads Fireworks are)."""

from __future__ import annotations

import pytest
import yaml

from lisflow.db import queries
from lisflow.engines.mlip import MlipEngine
from lisflow.errors import EngineError
from lisflow.launch.local import results_store, run_local, submit
from lisflow.launch.profiles import Profile
from lisflow.launch.states import firework_states
from lisflow.workflows.firetasks import PolymorphEnergyTask, RunCalculationTask

STUDY = "poly_resubmit"
RELAX, FORMATION = f"{STUDY}/bulk/tetragonal/relax", f"{STUDY}/formation/tetragonal"


@pytest.fixture
def profile(tmp_path, monkeypatch):
    monkeypatch.setenv("LISFLOW_HOME", str(tmp_path / "home"))
    return Profile(
        name="local",
        launchpad={"mode": "mongomock", "file": str(tmp_path / "home" / "launchpad.json")},
        results_db=f"sqlite:///{tmp_path / 'home' / 'results.sqlite'}",
        run_root=tmp_path / "home" / "runs",
    )


def _fail(message: str):
    def broken(*args, **kwargs):
        raise EngineError(message)

    return broken


def _states(profile) -> dict[str, str]:
    return {row["name"]: row["state"] for row in firework_states(profile)}


def test_resubmitting_a_polymorph_study_always_reaches_its_formation_energy(
    profile, tmp_path, monkeypatch
):
    spec = {"study": STUDY, "kind": "polymorphs", "engine": "mlip", "polymorphs": ["tetragonal"]}
    spec_file = tmp_path / "poly.yaml"
    spec_file.write_text(yaml.safe_dump(spec))
    store = results_store(profile)
    caller = tmp_path / "caller"  # the user's working directory: lisflow writes nothing there
    caller.mkdir()
    monkeypatch.chdir(caller)

    # 1. the engine crashes: relaxation FIZZLED (row FAILED), E_f waits on it
    with monkeypatch.context() as patch:
        patch.setattr(MlipEngine, "run", _fail("engine crashed"))
        submit([spec_file], profile)
        run_local(profile, progress=False)
    assert _states(profile) == {RELAX: "FIZZLED", FORMATION: "WAITING"}
    assert store.get(RELAX).state == "FAILED"

    # 2. resubmit: the relaxation reruns in place and stores its result, but its Firework
    #    FIZZLES afterwards (crash while reporting its outputs): E_f still waits on it
    with monkeypatch.context() as patch:
        patch.setattr(RunCalculationTask, "_action", _fail("crashed after storing"))
        (report,) = submit([spec_file], profile)
        assert list(report.rerun) == [RELAX] and report.new == [] and report.queued == []
        run_local(profile, progress=False)
    assert _states(profile) == {RELAX: "FIZZLED", FORMATION: "WAITING"}
    assert store.get(RELAX).state == "COMPLETED"

    # 3. resubmit: the COMPLETED-but-FIZZLED relaxation reruns in place without running the
    #    engine (reuses the stored result); the E_f behind it now runs (and fails once)
    with monkeypatch.context() as patch:
        patch.setattr(MlipEngine, "run", _fail("the engine must not run again"))
        patch.setattr(PolymorphEnergyTask, "run_task", _fail("results database unreachable"))
        (report,) = submit([spec_file], profile)
        assert list(report.rerun) == [RELAX] and report.done == [RELAX] and report.new == []
        run_local(profile, progress=False)
    assert _states(profile) == {RELAX: "COMPLETED", FORMATION: "FIZZLED"}

    # 4. resubmit: the FIZZLED E_f itself reruns in place and stores E_f
    (report,) = submit([spec_file], profile)
    assert list(report.rerun) == [FORMATION] and report.new == [] and report.done == [RELAX]
    summary = run_local(profile, progress=False)
    assert _states(profile) == {RELAX: "COMPLETED", FORMATION: "COMPLETED"}
    assert (summary.launched, summary.fizzled, summary.completed) == (1, 0, 2)
    stored = queries.polymorphs(store, study=STUDY)
    assert list(stored["polymorph"]) == ["tetragonal"] and list(stored["calc_id"]) == [RELAX]
    record = store.get(RELAX)
    assert stored["energy_per_atom_ev"].iloc[0] == pytest.approx(record.energy_ev / record.n_atoms)
    assert stored["energy_per_atom_ev"].iloc[0] < -2.0  # CHGNet+D3 Li2S2: about -4 eV/atom
    (again,) = submit([spec_file], profile)  # idempotent: nothing left to run
    assert (again.new, again.rerun, again.done) == ([], {}, [RELAX])
    assert list(caller.iterdir()) == []

"""`lisflow.api` on a database filled by replaying atomate2's real O/Au(100) VASP runs:
DataFrames, final structures (pymatgen JSON in the DB) with energies, plots, the README's
Python snippet as written, and examples/quickstart.ipynb executed."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import yaml
from pymatgen.core import Structure
from pymatgen.io.vasp import Vasprun
from typer.testing import CliRunner

from lisflow import api
from lisflow.cli import app
from lisflow.db.store import ResultStore, final_structure_dicts, store_final_structure
from lisflow.errors import InputError

sys.path.insert(0, str(Path(__file__).parent))
from test_replay_workflow import STUDY, au_spec, references  # noqa: E402

#: E_ads of the three O/Au(100) configurations (fixture MANIFEST: -2.0977, -3.0666, -2.9407 eV).
EXPECTED = {"0": -2.0977, "1": -3.0666, "2": -2.9407}
AU = "vasp/adsorption_o_on_au100_slab_atomate2"


@pytest.fixture(scope="module")
def replayed(tmp_path_factory, fixtures_dir) -> str:
    """A SQLite results DB filled by `lisflow submit --replay` + `lisflow run`."""
    work = tmp_path_factory.mktemp("api")
    url = f"sqlite:///{work / 'results.sqlite'}"
    fixture = fixtures_dir / AU
    (work / "au.yaml").write_text(yaml.safe_dump(au_spec(fixture)))
    (work / "refs.json").write_text(json.dumps(references(fixture)))
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        mp.setenv("LISFLOW_HOME", str(work / "home"))
        mp.setenv("LISFLOW_DB_URL", url)
        for args in (["submit", "au.yaml", "--replay", "refs.json"], ["run"]):
            result = CliRunner().invoke(app, args)
            assert result.exit_code == 0, result.output + repr(result.exception)
    return url


def test_dataframes(replayed):
    with api.open_db(replayed) as db:
        ads = db.adsorption(study=STUDY)
        assert list(ads["configuration"]) == ["0", "1", "2"]
        for row in ads.itertuples():
            assert row.energy_ev == pytest.approx(EXPECTED[row.configuration], abs=1e-4)
            assert row.energy_ev == pytest.approx(
                row.adslab_energy_ev - row.slab_energy_ev - row.molecule_energy_ev, abs=1e-9
            )
        calcs = db.calculations(study=STUDY)
        assert len(calcs) == 10 and set(calcs["state"]) == {"COMPLETED"}
        assert db.charges(study=STUDY).empty and db.icohp(study=STUDY).empty
        assert list(db.bands(study=STUDY).columns)[:3] == ["study", "calc_id", "engine"]


def test_final_structures_with_energies(replayed, fixtures_dir):
    with api.open_db(replayed) as db:
        adslabs = db.structures(study=STUDY, role="adslab")
        # the statics (final) only, lowest energy first
        assert [f.calc_id.rsplit("/", 2)[-2:] for f in adslabs] == [
            ["c1", "static"], ["c2", "static"], ["c0", "static"]
        ]
        energies = [f.energy_ev for f in adslabs]
        assert energies == sorted(energies)
        for final in adslabs:
            assert isinstance(final.structure, Structure) and final.source == "engine"
            assert final.structure.composition.reduced_formula == "Au16O"
            assert final.adsorbate == "O" and final.site == "Au100"
        # the stored structure is the engine's output (vasprun final structure), exactly
        config = int(adslabs[0].calc_id.split("/")[-2][1:])
        run = Vasprun(
            fixtures_dir / AU / f"ads_static_{config + 1}_3/vasprun.xml.gz",
            parse_dos=False, parse_eigen=False,
        )
        assert adslabs[0].energy_ev == pytest.approx(run.final_energy, abs=1e-6)
        ref = run.final_structure
        got = adslabs[0].structure
        assert len(got) == len(ref)
        assert got.lattice.matrix.ravel() == pytest.approx(ref.lattice.matrix.ravel())
        assert got.frac_coords.ravel() == pytest.approx(ref.frac_coords.ravel(), abs=1e-8)
        with_relax = db.structures(study=STUDY, role="adslab", final_only=False)
        assert len(with_relax) == 6
        slab = db.structure(f"{STUDY}/slab/Au100/static")
        assert slab.composition.reduced_formula == "Au"
        with pytest.raises(KeyError):
            db.structure("nope/none")


def test_structure_json_validation(tmp_path):
    store = ResultStore(f"sqlite:///{tmp_path / 'x.sqlite'}")
    with pytest.raises(InputError, match="source"):
        store_final_structure(store, "a/b", {"lattice": {}, "sites": []}, "guess")
    with pytest.raises(InputError, match="Structure dict"):
        store_final_structure(store, "a/b", {"sites": []}, "engine")
    assert final_structure_dicts(store) == {}


def test_plots(replayed):
    import matplotlib

    matplotlib.use("Agg")
    with api.open_db(replayed) as db:
        ax = api.plot_adsorption(db.adsorption())
    heights = sorted(round(p.get_height(), 4) for p in ax.patches)
    assert heights == [-3.0666]  # one site, one adsorbate: the lowest configuration
    assert "eV" in ax.get_ylabel() and ax.get_legend().get_title().get_text() == "adsorbate"


def _readme_python(repo_root: Path) -> str:
    blocks = re.findall(r"```python\n(.*?)```", (repo_root / "README.md").read_text(), re.S)
    assert len(blocks) == 1
    return blocks[0]


def test_readme_snippet_runs_as_written(replayed, repo_root, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LISFLOW_DB_URL", replayed)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    exec(compile(_readme_python(repo_root), "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "-3.0666" in out and "Au16O" in out
    assert (tmp_path / "adsorption.png").stat().st_size > 1000


def test_quickstart_notebook_executes(replayed, repo_root, tmp_path, monkeypatch):
    import nbclient  # dev dependency (with ipykernel): the notebook runs in CI
    import nbformat

    monkeypatch.setenv("LISFLOW_DB_URL", replayed)
    monkeypatch.delenv("MPLBACKEND", raising=False)
    src = repo_root / "src"
    monkeypatch.setenv("PYTHONPATH", f"{src}:{__import__('os').environ.get('PYTHONPATH', '')}")
    notebook = nbformat.read(repo_root / "examples/quickstart.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    text = "\n".join(
        out.get("text", "") + json.dumps(out.get("data", {}).get("text/plain", ""))
        for cell in notebook.cells if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert "-3.0666" in text and "Au16O" in text
    images = [o for c in notebook.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 1

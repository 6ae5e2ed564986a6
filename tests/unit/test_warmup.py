"""The install-time compile of baderkit's kernels (``python -m lisflow.warmup``, run by
``make setup``) goes through lisflow's own Bader paths, and on its synthetic densities they
give the right partition: 2 + 2 electrons in Gaussians on equivalent Li and H sites."""

from __future__ import annotations

import pytest

from lisflow import warmup


@pytest.mark.parametrize("name", list(warmup.WARMERS))
def test_warmup_partitions_its_synthetic_density(name, tmp_path):
    result = warmup.WARMERS[name](tmp_path)
    assert [site.element for site in result.sites] == ["Li", "H"]
    assert result.total_electrons == pytest.approx(4.0, abs=1e-3)
    assert [site.valence_electrons for site in result.sites] == pytest.approx([2.0, 2.0], abs=0.02)
    assert [site.net_charge for site in result.sites] == pytest.approx([1.0, -1.0], abs=0.02)


def test_warmup_command_reports_each_compile(capsys):
    assert warmup.main() == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"compiled {n}" for n in warmup.WARMERS]
    assert all(line.endswith("(4.000 e)") for line in lines)

"""Atomic charges of the fixed electrode atoms from Bader analysis (paper 000 Methods MD).

Sources, in order of preference: a mapping ``{site_index: charge}`` or a callable returning
it (e.g. a query of the results database, ``lisflow.db``), or a CSV file with the header
``site_index,charge`` (site indices of the DFT cell, charges in e). Without a source the
electrode is neutral: every atom gets 0 e. This is the documented default because the
Bader results of ``mo_cluster_adsorption`` are produced by another study; pass them in once
that study has run. The Mo centre's Bader charge in paper 000 is +7.37 e (Fig. 4e caption).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping
from pathlib import Path

from lisflow.errors import InputError

ChargeSource = Mapping[int, float] | Callable[[], Mapping[int, float]] | str | Path | None


def read_charge_csv(path: str | Path) -> dict[int, float]:
    """``site_index,charge`` rows (e) → dict; InputError naming the file on bad content."""
    path = Path(path)
    if not path.is_file():
        raise InputError("charges", f"file {path} does not exist")
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"site_index", "charge"} <= set(reader.fieldnames):
            raise InputError("charges", f"{path} needs the columns site_index,charge")
        try:
            return {int(row["site_index"]): float(row["charge"]) for row in reader}
        except ValueError as exc:
            raise InputError("charges", f"{path}: {exc}") from None


def electrode_charges(n_sites: int, source: ChargeSource = None) -> list[float]:
    """Charges (e) of the ``n_sites`` sites of the DFT electrode cell.

    Sites absent from the source get 0 e. The result is NOT renormalised here; the box
    builder makes the whole electrode neutral (see ``md_boxes``).
    """
    if source is None:
        return [0.0] * n_sites
    if isinstance(source, str | Path):
        mapping = read_charge_csv(source)
    elif callable(source):
        mapping = dict(source())
    else:
        mapping = dict(source)
    bad = [i for i in mapping if not 0 <= int(i) < n_sites]
    if bad:
        raise InputError("charges.site_index", f"indices {bad[:5]} outside 0..{n_sites - 1}")
    return [float(mapping.get(i, 0.0)) for i in range(n_sites)]

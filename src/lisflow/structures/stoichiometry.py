"""Stoichiometry of an adsorption energy: adslab = n·slab + ν·reference, exactly.

E_ads = E_adslab − n·E_slab − ν·E_ref (eV). ``n`` (a positive integer) handles an adslab built
on an n-fold supercell of the clean slab (e.g. pymatgen's site finder repeats a 1×1 slab);
``ν`` (a positive fraction, ν·N_ref atoms) handles elemental references of a user's adsorbate:
½H₂ for H, ½O₂ for O, S8/8 for S. Anything else is refused with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from pymatgen.core import Composition

from lisflow.errors import LisflowError

#: Largest denominator accepted for ν (S8/8 is the largest the papers need).
MAX_DENOMINATOR = 8


class StoichiometryError(LisflowError):
    """The adslab is not n·slab + ν·reference: an adsorption energy would be wrong."""


@dataclass(frozen=True)
class AdsorptionStoichiometry:
    """adslab = ``slab_multiple``·slab + ``reference_coefficient``·reference (atoms)."""

    slab_multiple: int
    reference_coefficient: Fraction
    adsorbate: str  # formula of the adsorbed atoms (adslab − n·slab)

    def equation(self, reference: str) -> str:
        n = "" if self.slab_multiple == 1 else f"{self.slab_multiple}·"
        nu = self.reference_coefficient
        coeff = "" if nu == 1 else f"{nu}·"
        return f"E_ads = E(adslab) − {n}E(slab) − {coeff}E({reference})"


def _counts(formula: str) -> dict[str, int]:
    try:
        comp = Composition(formula)
    except ValueError:  # pymatgen's answer to "" or garbage
        raise StoichiometryError(f"no valid formula stored ({formula!r})") from None
    out = {}
    for element, amount in comp.items():
        if abs(amount - round(amount)) > 1e-6:
            raise StoichiometryError(f"non-integer atom count in {formula!r}")
        out[element.symbol] = int(round(amount))
    return out


def adsorption_stoichiometry(adslab: str, slab: str, reference: str) -> AdsorptionStoichiometry:
    """Solve adslab = n·slab + ν·reference for integer n >= 1 and fraction ν > 0 (formulas of
    the full cells); ``StoichiometryError`` naming the mismatch when there is no solution."""
    a, s, r = _counts(adslab), _counts(slab), _counts(reference)
    if not s or not r:
        raise StoichiometryError(f"empty formula (slab {slab!r}, reference {reference!r})")
    solutions = []
    for n in range(1, sum(a.values()) // sum(s.values()) + 1):
        rest = {el: a.get(el, 0) - n * s.get(el, 0) for el in set(a) | set(s)}
        if any(v < 0 for v in rest.values()):
            continue
        rest = {el: v for el, v in rest.items() if v}
        if not rest or set(rest) != set(r):
            continue
        ratios = {Fraction(rest[el], r[el]) for el in r}
        if len(ratios) == 1:
            nu = ratios.pop()
            if nu.denominator <= MAX_DENOMINATOR:
                ads = "".join(f"{el}{v if v != 1 else ''}" for el, v in sorted(rest.items()))
                solutions.append(AdsorptionStoichiometry(n, nu, ads))
    if len(solutions) != 1:
        why = "no" if not solutions else "more than one"
        raise StoichiometryError(
            f"adslab {adslab} is not n·({slab}) + ν·({reference}) with integer n >= 1 and "
            f"ν = k/m (m <= {MAX_DENOMINATOR}): {why} solution"
        )
    return solutions[0]

"""Angles and proper dihedrals from a bond list (atom indices of one molecule)."""

from __future__ import annotations

from collections import defaultdict


def _neighbours(bonds: tuple[tuple[int, int], ...] | list[tuple[int, int]]) -> dict[int, list[int]]:
    graph: dict[int, list[int]] = defaultdict(list)
    for i, j in bonds:
        graph[i].append(j)
        graph[j].append(i)
    return {k: sorted(v) for k, v in graph.items()}


def angles_from_bonds(bonds) -> list[tuple[int, int, int]]:
    """Every i-j-k with i-j and j-k bonded, i < k, sorted by centre atom then ends."""
    graph = _neighbours(bonds)
    out = []
    for j in sorted(graph):
        nb = graph[j]
        out += [(i, j, k) for a, i in enumerate(nb) for k in nb[a + 1 :]]
    return out


def dihedrals_from_bonds(bonds) -> list[tuple[int, int, int, int]]:
    """Every proper dihedral i-j-k-l around each bond j-k (i != k, l != j, i != l)."""
    graph = _neighbours(bonds)
    out = []
    for j, k in sorted(tuple(sorted(b)) for b in bonds):
        for i in graph[j]:
            if i == k:
                continue
            for m in graph[k]:
                if m in (j, i):
                    continue
                out.append((i, j, k, m))
    return out

"""Workflow and Firework state tables of a LaunchPad (``lisflow status``): read only, and
light to import (no workflow builders), so the table comes back fast."""

from __future__ import annotations

from lisflow.launch.launchpad import open_launchpad
from lisflow.launch.profiles import Profile


def workflow_states(profile: Profile) -> list[dict]:
    """One row per workflow: name, state and Firework counts per state."""
    rows = []
    with open_launchpad(profile, read_only=True) as lpad:
        for wf in lpad.workflows.find({}, {"name": 1, "state": 1, "nodes": 1, "fw_states": 1}):
            counts: dict[str, int] = {}
            for state in (wf.get("fw_states") or {}).values():
                counts[state] = counts.get(state, 0) + 1
            rows.append(
                {
                    "workflow": wf["name"],
                    "state": wf.get("state", "?"),
                    "fireworks": len(wf.get("nodes", [])),
                    **counts,
                }
            )
    return rows


def firework_states(profile: Profile, study: str | None = None) -> list[dict]:
    """One row per Firework: id, name, state, and the reason of a FIZZLED one."""
    from lisflow.launch.doctor import FAILURE_KEY, fizzle_reason

    query = {"spec.study": study} if study else {}
    rows = []
    fields = {"fw_id": 1, "name": 1, "state": 1, "launches": 1, f"spec.{FAILURE_KEY}": 1}
    with open_launchpad(profile, read_only=True) as lpad:
        for doc in lpad.fireworks.find(query, fields).sort("fw_id", 1):
            row = {"fw_id": doc["fw_id"], "name": doc["name"], "state": doc["state"]}
            if doc["state"] == "FIZZLED":
                launches = doc.get("launches") or []
                row["reason"] = fizzle_reason(lpad, launches[-1] if launches else None)
            rows.append(row)
    return rows

"""Single-file outputs (``ml screen --out x.csv``) never overwrite a file lisflow did not write,
and re-running replaces lisflow's own file (issue 10, item 12)."""

from __future__ import annotations

import pytest

from lisflow.errors import InputError
from lisflow.fsutil import FILES_MARKER, write_output_file


def test_user_file_is_never_overwritten(tmp_path):
    notes = tmp_path / "next_round.csv"
    notes.write_text("my own notes\n")
    with pytest.raises(InputError, match=r"^--out: .*was not written by lisflow"):
        write_output_file(notes, "site,score\n")
    assert notes.read_text() == "my own notes\n"
    assert not (tmp_path / FILES_MARKER).exists()


def test_rerun_replaces_lisflows_own_file(tmp_path):
    out = tmp_path / "ranking.csv"
    write_output_file(out, "a\n1\n")
    write_output_file(out, "a\n2\n")
    assert out.read_text() == "a\n2\n"
    other = tmp_path / "other.csv"
    write_output_file(other, "b\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == [FILES_MARKER, "other.csv", "ranking.csv"]

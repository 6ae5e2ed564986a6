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


def test_dry_run_refuses_a_users_study_directory_before_writing_anything(tmp_path):
    """A user's file in the directory of a *later* study: refused (naming --out) before the
    first study is written; the user's files stay, and no study directory appears."""
    from lisflow.spec import study_files
    from lisflow.workflows.dryrun import dry_run

    files = sorted(study_files())[:3]
    out = tmp_path / "out"
    last = out / files[-1].stem
    last.mkdir(parents=True)
    (out / "notes.txt").write_text("mine\n")
    (last / "user.txt").write_text("mine too\n")
    with pytest.raises(InputError, match=r"^--out: .*was not written by lisflow"):
        dry_run(files, out, progress=False)
    assert sorted(p.name for p in out.iterdir()) == sorted(["notes.txt", last.name])
    assert (last / "user.txt").read_text() == "mine too\n"
    assert [p.name for p in last.iterdir()] == ["user.txt"]

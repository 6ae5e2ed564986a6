"""Slurm time limits: every ``--time`` format (man sbatch) parses to the right seconds."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lisflow.errors import InputError
from lisflow.launch.walltime import format_slurm_time, main, parse_slurm_time

small = st.integers(min_value=0, max_value=59)
hours = st.integers(min_value=0, max_value=23)
anyint = st.integers(min_value=0, max_value=100_000)


@given(anyint)
def test_minutes(m):
    assert parse_slurm_time(f"{m}") == 60.0 * m


@given(anyint, small)
def test_minutes_seconds(m, s):
    assert parse_slurm_time(f"{m}:{s:02d}") == 60.0 * m + s


@given(anyint, small, small)
def test_hours_minutes_seconds(h, m, s):
    assert parse_slurm_time(f"{h:02d}:{m:02d}:{s:02d}") == 3600.0 * h + 60 * m + s


@given(anyint, hours)
def test_days_hours(d, h):
    assert parse_slurm_time(f"{d}-{h}") == 86400.0 * d + 3600 * h


@given(anyint, hours, small)
def test_days_hours_minutes(d, h, m):
    assert parse_slurm_time(f"{d}-{h:02d}:{m:02d}") == 86400.0 * d + 3600 * h + 60 * m


@given(anyint, hours, small, small)
def test_days_hours_minutes_seconds(d, h, m, s):
    assert parse_slurm_time(f"{d}-{h:02d}:{m:02d}:{s:02d}") == 86400.0 * d + 3600 * h + 60 * m + s


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_format_round_trips_to_whole_seconds(seconds):
    assert parse_slurm_time(format_slurm_time(seconds)) == math.ceil(seconds)


@pytest.mark.parametrize("text", ["UNLIMITED", "unlimited", "INFINITE", " UNLIMITED "])
def test_unlimited_is_inf(text):
    assert parse_slurm_time(text) == math.inf
    assert format_slurm_time(math.inf) == "UNLIMITED"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "-1",
        "1:2:3:4",
        "1-2:3:4:5",
        "abc",
        "1h",
        "1.5",
        "1-",
        "-5:00",
        "1--2",
        "1:",
        ":30",
        "1 -2",
        "1-2-3",
        "5;rm -rf /",
        "$(reboot)",
    ],
)
def test_garbage_raises_input_error_naming_the_field(text):
    with pytest.raises(InputError) as info:
        parse_slurm_time(text, "queue.walltime")
    assert "queue.walltime" in str(info.value) and "D-HH:MM:SS" in str(info.value)


@given(st.text(alphabet="0123456789:-abcUNLIMTED ", max_size=12))
def test_never_crashes_otherwise(text):
    try:
        value = parse_slurm_time(text)
    except InputError:
        return
    assert value >= 0


def test_main_without_a_job_prints_empty(monkeypatch, capsys):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    assert main([]) == 0
    assert capsys.readouterr().out == "\n"

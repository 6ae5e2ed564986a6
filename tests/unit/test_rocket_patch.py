"""FireWorks' Rocket as lisflow runs it (``launch.offline.patch_rocket``): the ping thread pings
while the launch runs and never after it ended (that late ping wrote ``FW_ping.json`` into the
caller's working directory, or raced ``recover_offline`` reading a half-written file and made a
COMPLETED launch FIZZLED); offline ping files are whole JSON that FireWorks reads back."""

from __future__ import annotations

import threading
import time

from fireworks.core import rocket
from monty.serialization import loadfn

from lisflow.launch.offline import patch_rocket


def _ping_thread(stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(
        target=rocket.ping_launch, args=(None, None, stop, threading.current_thread())
    )
    thread.start()
    return thread


def test_pings_while_running_and_never_after_the_stop(tmp_path, monkeypatch):
    patch_rocket()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(rocket, "PING_TIME_SECS", 0.02)
    stop = threading.Event()
    thread = _ping_thread(stop)
    deadline = time.monotonic() + 10.0
    while not (tmp_path / "FW_ping.json").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert set(loadfn(tmp_path / "FW_ping.json")) == {"ping_time"}
    stop.set()
    thread.join(timeout=10.0)
    assert not thread.is_alive()
    (tmp_path / "FW_ping.json").unlink()
    time.sleep(0.1)
    assert list(tmp_path.iterdir()) == []  # no ping once stopped


def test_a_stopped_launch_writes_no_ping_file(tmp_path, monkeypatch):
    """FireWorks' own thread pings once more when stopped while waiting (after the Rocket
    returned: this test fails with it)."""
    patch_rocket()
    monkeypatch.chdir(tmp_path)
    stop = threading.Event()
    thread = _ping_thread(stop)
    time.sleep(0.1)  # the thread waits for its first ping (an hour)
    stop.set()
    thread.join(timeout=10.0)
    assert list(tmp_path.iterdir()) == []


def test_offline_ping_is_atomic_json(tmp_path, monkeypatch):
    patch_rocket()
    monkeypatch.chdir(tmp_path)
    rocket.do_ping(None, None)
    assert [p.name for p in tmp_path.iterdir()] == ["FW_ping.json"]  # no temp file left
    ping_time = loadfn(tmp_path / "FW_ping.json")["ping_time"]
    assert ping_time.endswith("+00:00") and ping_time[:2] == "20"

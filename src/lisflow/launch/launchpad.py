"""Open the profile's FireWorks LaunchPad.

``mongomock`` mode is FireWorks' embedded mongomock-persistence file: the whole database
lives in memory and is written to one JSON file. mongomock-persistence writes that file only
when the process ends, non-atomically; lisflow instead holds an exclusive lock on it while a
LaunchPad is open (one writer at a time) and saves it atomically after every change via
:func:`save`, so a killed process loses at most the step in flight and never corrupts it.
A ``read_only`` opening (status tables, counts) never rewrites the file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from lisflow.errors import InputError, LisflowError
from lisflow.fsutil import atomic_write_text
from lisflow.launch.profiles import Profile, read_secret


class LaunchPadBusy(LisflowError):
    """Another process holds the embedded LaunchPad."""


@contextlib.contextmanager
def open_launchpad(profile: Profile, wait: bool = True, read_only: bool = False) -> Iterator:
    """Yield a ``fireworks.LaunchPad`` for the profile; saves (mongomock) on exit unless
    ``read_only`` (the caller only reads: the file is left as it is)."""
    mode = profile.launchpad.get("mode", "mongomock")
    if mode == "mongomock":
        with _mongomock_launchpad(Path(profile.launchpad["file"]), wait, read_only) as lpad:
            yield lpad
    elif mode == "mongodb":
        yield _mongodb_launchpad(profile)
    elif mode == "fireworks":  # FireWorks' own my_launchpad.yaml (profiles.with_fireworks_config)
        from fireworks import LaunchPad

        yield LaunchPad.from_file(profile.launchpad["file"])
    else:
        raise InputError(
            "launchpad.mode", f"unknown mode {mode!r}", "mongomock, mongodb, fireworks"
        )


@contextlib.contextmanager
def _mongomock_launchpad(file: Path, wait: bool, read_only: bool = False) -> Iterator:
    import mongomock_persistence
    from fireworks import LaunchPad
    from fireworks.core import launchpad as fw_launchpad
    from mongomock.gridfs import enable_gridfs_integration

    private_dir(file.parent)
    lock_path = file.with_suffix(file.suffix + ".lock")
    with open(os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600), "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise LaunchPadBusy(f"{file} is in use by another lisflow process") from None
        if not file.exists() or file.stat().st_size == 0:
            atomic_write_text(file, "{}", mode=0o600)
        previous = os.environ.get("MONGOMOCK_SERVERSTORE_FILE")
        os.environ["MONGOMOCK_SERVERSTORE_FILE"] = str(file)
        enable_gridfs_integration()  # as fireworks.fw_config does in mongomock mode
        saved_client = fw_launchpad.MongoClient
        fw_launchpad.MongoClient = mongomock_persistence.MongoClient
        try:
            lpad = LaunchPad(name="lisflow", strm_lvl="ERROR")
            store = lpad.connection._store
            store._finalizer.detach()  # lisflow saves explicitly and atomically
            lpad._lisflow_store_file = file
            if lpad.fw_id_assigner.find_one({}) is None:  # a new file: initialise the ids
                lpad.reset("", require_password=False, max_reset_wo_password=0)
                save(lpad)
            try:
                yield lpad
            finally:
                if not read_only:
                    save(lpad)
        finally:
            fw_launchpad.MongoClient = saved_client
            if previous is None:
                os.environ.pop("MONGOMOCK_SERVERSTORE_FILE", None)
            else:
                os.environ["MONGOMOCK_SERVERSTORE_FILE"] = previous


def save(lpad) -> None:
    """Write an embedded LaunchPad's state to its file atomically (no-op for MongoDB)."""
    file = getattr(lpad, "_lisflow_store_file", None)
    if file is None:
        return
    from bson import json_util

    # 0600: Firework specs may name databases and run directories
    atomic_write_text(file, json_util.dumps(lpad.connection._store.to_dict()), mode=0o600)


def private_dir(directory: Path) -> None:
    """Create ``directory`` (and parents) 0700; a directory lisflow created earlier with a
    wider mode is narrowed (it holds the LaunchPad and results)."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):
        if directory.stat().st_uid == os.getuid() and directory.stat().st_mode & 0o077:
            if (directory / "launchpad.json").exists() or not any(directory.iterdir()):
                directory.chmod(0o700)


def _mongodb_launchpad(profile: Profile):
    from fireworks import LaunchPad

    variable = profile.launchpad.get("uri_env", "LISFLOW_MONGO_URI")
    uri = read_secret(variable)
    if not uri:
        raise InputError(
            variable,
            "not set: the cluster profile needs the MongoDB URI",
            f"${variable} or ${variable}_FILE",
        )
    try:
        return LaunchPad(
            host=uri, uri_mode=True, name=profile.launchpad.get("name", "lisflow"), strm_lvl="ERROR"
        )
    except Exception as exc:  # pymongo's messages may quote the URI: never print it whole
        from lisflow.urls import mask_url

        message = mask_url(str(exc).replace(uri, mask_url(uri)))
        raise LisflowError(f"cannot open the MongoDB LaunchPad (${variable}): {message}") from None

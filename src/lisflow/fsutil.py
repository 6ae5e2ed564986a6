"""Atomic file and directory writes: nothing half-written is ever visible under its final name."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path


def atomic_write_text(path: str | os.PathLike, text: str, mode: int | None = None) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same directory and rename."""
    return atomic_write_bytes(path, text.encode(), mode)


def atomic_write_bytes(path: str | os.PathLike, data: bytes, mode: int | None = None) -> Path:
    """Write ``data`` to ``path`` atomically (temp file + fsync + rename). ``mode``: the file's
    permissions (e.g. 0o600 for files holding connection data); default 0666 minus umask."""
    target = Path(path)
    if _STAGING and _in_staging(target) and not target.is_symlink():
        return _write_staged(target, data, mode)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, mode if mode is not None else 0o666 & ~_umask())  # mkstemp makes 0600
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return target


#: Absolute paths of the temporary directories of the open ``atomic_directory`` blocks.
_STAGING: set[str] = set()


#: Directories made below the open staging trees (absolute paths): each is made once, with
#: no ``mkdir`` that fails because it exists (a system call each). Entries of a tree are
#: dropped when its ``atomic_directory`` block ends.
_MADE_DIRS: set[str] = set()


def staged_mkdir(directory: str) -> None:
    """``mkdir -p`` of the absolute path ``directory`` inside an open staging tree: one
    ``mkdir`` per new directory (only this process writes the tree, so made stays made)."""
    if directory in _MADE_DIRS or directory in _STAGING:
        return
    parent = os.path.dirname(directory)
    if parent == directory:
        raise ValueError(f"{directory} is not inside a staging tree")
    staged_mkdir(parent)
    with contextlib.suppress(FileExistsError):
        os.mkdir(directory)
    _MADE_DIRS.add(directory)


def _in_staging(target: Path) -> bool:
    parent = os.path.abspath(target.parent)
    while True:
        if parent in _STAGING:
            return True
        up = os.path.dirname(parent)
        if up == parent:
            return False
        parent = up


def _write_staged(target: Path, data: bytes, mode: int | None) -> Path:
    """A file inside an ``atomic_directory`` staging tree: nobody sees it under its final
    name before the whole tree is flushed to disk and renamed, so a plain write suffices
    (no temp file, no fsync of its own)."""
    staged_mkdir(os.path.abspath(target.parent))
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        os.fchmod(fd, mode if mode is not None else 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)
        raise
    return target


def flush_tree(root: Path) -> None:
    """Make every file below ``root`` durable before it is renamed into place: one
    ``syncfs(2)`` of its file system on Linux (one journal commit; measured here 0.01 s
    against 1.0 s for fsync of 300 files one by one), else ``fsync`` of each file."""
    fd = os.open(root, os.O_RDONLY)
    try:
        if _syncfs(fd):
            return
    finally:
        os.close(fd)
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            file_fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(file_fd)
            finally:
                os.close(file_fd)


def _syncfs(fd: int) -> bool:
    """``syncfs(fd)`` through libc; False where unavailable or failing (then fsync each)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.syncfs(fd) == 0
    except (OSError, AttributeError):
        return False


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (no-op where directories cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: File in every directory ``atomic_directory`` writes: the files lisflow put there (JSON).
MARKER = ".lisflow-output"


def _written_by_lisflow(directory: Path) -> set[str] | None:
    """The files lisflow wrote in ``directory`` (from its marker), or None without a marker."""
    marker = directory / MARKER
    if not marker.is_file():
        return None
    try:
        names = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
    return set(names) if isinstance(names, list) else None


def _files_below(directory: Path) -> set[str]:
    """Relative POSIX paths of everything below ``directory`` that is not a directory:
    files and symbolic links (links to directories are listed, not followed). ``os.walk``
    reads each directory once with ``scandir`` (no ``stat`` per entry: ~6x faster than
    ``rglob`` + ``is_dir`` on a dry-run tree)."""
    found: set[str] = set()
    for parent, dirnames, filenames in os.walk(directory):
        base = Path(parent).relative_to(directory)
        links = [name for name in dirnames if os.path.islink(os.path.join(parent, name))]
        for name in (*filenames, *links):
            found.add((base / name).as_posix())
    return found


def check_replaceable(path: Path, field: str = "--out") -> None:
    """Refuse to replace ``path`` unless it is absent, empty, or a lisflow output holding only
    files lisflow wrote (never delete what lisflow did not write)."""
    from lisflow.errors import InputError

    if not path.exists() and not path.is_symlink():
        return
    if not path.is_dir() or path.is_symlink():
        raise InputError(field, f"{path} exists and is not a directory; choose another path")
    present = _files_below(path)
    if not present:
        return
    written = _written_by_lisflow(path)
    if written is None:
        raise InputError(
            field,
            f"{path} is not empty and was not written by lisflow; choose a new directory",
        )
    foreign = sorted(present - written - {MARKER})
    if foreign:
        raise InputError(
            field, f"{path} holds {foreign[0][:60]!r}, not written by lisflow; move it first"
        )


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike, field: str = "--out") -> Iterator[Path]:
    """Yield a temporary sibling directory; on success it replaces ``path`` whole.

    ``path`` must be absent, empty or an earlier lisflow output (its ``.lisflow-output``
    marker lists every file lisflow wrote there; any other file makes this refuse with
    ``InputError`` naming ``field``). On any exception the temporary directory is removed
    and ``path`` is left as it was.
    """
    target = Path(path)
    check_replaceable(target, field)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    staged = os.path.abspath(tmp)
    _STAGING.add(staged)
    try:
        tmp.chmod(0o777 & ~_umask())
        yield tmp
        names = sorted(_files_below(tmp) - {MARKER})
        atomic_write_text(tmp / MARKER, json.dumps(names, indent=0) + "\n")
        # crash safety: files inside tmp are written plainly (see _write_staged); all of
        # them reach the disk here, before the rename that makes the tree visible
        flush_tree(tmp)
        check_replaceable(target, field)  # again: nothing appeared meanwhile
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        _STAGING.discard(staged)
        _MADE_DIRS.difference_update([d for d in _MADE_DIRS if d.startswith(staged + os.sep)])
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, target)
    _fsync_directory(target.parent)


#: File beside single-file outputs (``ml screen --out x.csv``): the names lisflow wrote there.
FILES_MARKER = ".lisflow-files"


def write_output_file(path: str | os.PathLike, text: str, field: str = "--out") -> Path:
    """Write a single output file atomically, never over a file lisflow did not write.

    An existing ``path`` is replaced only when the directory's ``.lisflow-files`` list names it
    (an earlier lisflow output, so re-running is idempotent); otherwise ``InputError`` naming
    ``field``."""
    from lisflow.errors import InputError

    target = Path(path)
    registry = target.parent / FILES_MARKER
    try:
        written = set(json.loads(registry.read_text())) if registry.is_file() else set()
    except (OSError, ValueError):
        written = set()
    if target.exists() and target.name not in written:
        raise InputError(
            field, f"{target} exists and was not written by lisflow: not overwritten",
            "a new file name, or remove the file",
        )  # fmt: skip
    atomic_write_text(target, text)
    if target.name not in written:
        names = sorted(written | {target.name})
        atomic_write_text(registry, json.dumps(names, indent=0) + "\n")
    return target


def hash_directory(path: str | os.PathLike, names: list[str] | None = None) -> str:
    """SHA-256 over the (name, bytes) of the files in ``path`` (sorted), or of ``names`` only."""
    root = Path(path)
    digest = hashlib.sha256()
    files = sorted(names) if names is not None else sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()
    )
    for name in files:
        digest.update(name.encode() + b"\0")
        digest.update((root / name).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def lisflow_home() -> Path:
    """``$LISFLOW_HOME`` (default ``./.lisflow``), absolute: where runs, the LaunchPad and the
    default results database live."""
    return Path(os.environ.get("LISFLOW_HOME", Path.cwd() / ".lisflow")).resolve()

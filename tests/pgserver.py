"""A throw-away PostgreSQL server for the tests (Debian's PostgreSQL 15 binaries).

``initdb`` into a temporary directory, ``pg_ctl start`` on a free loopback port with the unix
socket in that directory, trust authentication for the superuser ``postgres``. As root, the
server runs as the ``postgres`` system user (``runuser -u postgres --``). Durability settings
are off: the data is discarded at the end.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

PG_BIN = Path(os.environ.get("LISFLOW_PG_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "postgres"
#: Settings for a fast, disposable test server (no durability needed).
FAST_SETTINGS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


class PgServerError(RuntimeError):
    """The test server could not be set up."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PgServer:
    """Start with :meth:`start`, stop (and delete all data) with :meth:`stop`; or use ``with``."""

    def __init__(self, bin_dir: Path = PG_BIN) -> None:
        self.bin_dir = Path(bin_dir)
        self.root: Path | None = None
        self.port: int | None = None

    @property
    def data_dir(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    def _command(self, tool: str, *args: str) -> list[str]:
        command = [str(self.bin_dir / tool), *args]
        if os.geteuid() == 0:
            return ["runuser", "-u", SUPERUSER, "--", *command]
        return command

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run(
            self._command(tool, *args), capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            log = self.root / "server.log" if self.root else None
            tail = log.read_text()[-2000:] if log and log.exists() else ""
            raise PgServerError(f"{tool} failed: {result.stderr.strip()}\n{tail}")

    def start(self) -> PgServer:
        """initdb, start the server and wait until it accepts connections."""
        for tool in ("initdb", "pg_ctl", "postgres"):
            if not (self.bin_dir / tool).is_file():
                raise PgServerError(
                    f"{self.bin_dir / tool} not found: install Debian's postgresql-15 "
                    "(or set LISFLOW_PG_BIN)"
                )
        self.root = Path(tempfile.mkdtemp(prefix="lisflow-pg-"))
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam(SUPERUSER)
            except KeyError:
                raise PgServerError(f"running as root but there is no {SUPERUSER!r} user") from None
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._run(
            "initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust",
            "-E", "UTF8", "--no-sync", "--no-instructions",
        )  # fmt: skip
        for attempt in range(3):
            self.port = _free_port()
            options = f"-p {self.port} -h 127.0.0.1 -k {self.root} {FAST_SETTINGS}"
            try:
                self._run(
                    "pg_ctl", "-D", str(self.data_dir), "-l", str(self.root / "server.log"),
                    "-o", options, "-w", "-t", "60", "start",
                )  # fmt: skip
                return self
            except PgServerError:
                if attempt == 2:
                    self.stop()
                    raise
        return self

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its directory."""
        if self.root is None:
            return
        if (self.data_dir / "postmaster.pid").exists():
            subprocess.run(
                self._command("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop"),
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3) of ``database`` on this server."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg

        dsn = f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(sql)

    def create_database(self, name: str | None = None) -> str:
        """Create a fresh database; returns its URL."""
        name = name or f"lisflow_{uuid.uuid4().hex[:12]}"
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, disconnecting any remaining sessions."""
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def __enter__(self) -> PgServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

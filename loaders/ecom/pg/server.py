"""A throwaway PostgreSQL server: Debian's binaries, a fresh cluster in a temporary folder.

``PostgresServer.start()`` runs ``initdb`` and ``pg_ctl start`` on a free port of 127.0.0.1
(unix socket inside the cluster folder), creates the ``ecom`` database and returns the
server; ``stop()`` stops it and deletes the folder. ``env()`` gives the variables of the dbt
``postgres`` target (profiles/profiles.yml). Used by the tests (a session fixture), by
``ecom postgres up|down|status|env`` and by ``ecom run --warehouse postgres``.

PostgreSQL refuses to run as root: as root, every server command runs as an unprivileged
user (``postgres`` when Debian's package created it, else ``nobody``) through ``setpriv``,
and the cluster folder is handed to that user. The cluster trades durability for speed
(``fsync=off``): it is for tests and development, never for data one wants to keep.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ecom.errors import EcomError

#: Database and superuser of every throwaway cluster.
DATABASE = "ecom"
USER = "ecom"
#: The dbt target's default schema (models without a custom schema; none today).
SCHEMA = "analytics"
#: Settings of a throwaway cluster: no durability, a little more memory for dbt's queries.
SERVER_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "work_mem": "64MB",
    "maintenance_work_mem": "128MB",
    "max_connections": "40",
    "timezone": "UTC",
    "log_timezone": "UTC",
}


class PostgresError(EcomError):
    """PostgreSQL is missing, or a throwaway server could not be started or stopped."""


def find_bindir() -> Path:
    """The folder of ``initdb``/``pg_ctl``: $ECOM_PG_BINDIR, PATH, or Debian's newest version."""
    from ecom import settings

    configured = settings.get().pg_bindir
    candidates: list[Path] = [configured] if configured else []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += debian
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise PostgresError(
        "PostgreSQL's server programs (initdb, pg_ctl) were not found in $ECOM_PG_BINDIR, on "
        "PATH or under /usr/lib/postgresql/*/bin: run `make postgres-setup` (installs Debian's "
        "postgresql package) or set ECOM_PG_BINDIR"
    )


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_user() -> pwd.struct_passwd | None:
    """Who runs the server: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise PostgresError("running as root, and neither a 'postgres' nor a 'nobody' user exists")


@dataclass
class PostgresServer:
    """One running throwaway cluster (``start`` makes one; the fields say where it is)."""

    root: Path  # the temporary folder: data/, the socket, server.log
    port: int
    password: str
    host: str = "127.0.0.1"
    user: str = USER
    database: str = DATABASE
    bindir: Path = field(default_factory=find_bindir)

    # -- life cycle --------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        *,
        parent: Path | None = None,
        settings: dict[str, str] | None = None,
        owner: int | None = None,
    ) -> PostgresServer:
        """initdb + pg_ctl start in a new temporary folder; retries another port if one is taken.

        With ``owner`` (a process id), a watchdog stops the server and deletes its folder when
        that process ends, however it ends (ecom.pg.watchdog); tests pass their own pid.
        """
        bindir = find_bindir()
        runner = _server_user()
        root = Path(tempfile.mkdtemp(prefix="ecom-pg-", dir=parent))
        try:
            if runner is not None:
                os.chown(root, runner.pw_uid, runner.pw_gid)
            password = secrets.token_urlsafe(18)
            server = cls(root=root, port=0, password=password, bindir=bindir)
            server._initdb()
            last = ""
            for _ in range(5):
                server.port = free_port()
                try:
                    server._pg_ctl_start({**SERVER_SETTINGS, **(settings or {})})
                    break
                except PostgresError as exc:  # the port was taken in between: try another
                    last = str(exc)
            else:
                raise PostgresError(f"PostgreSQL did not start: {last}")
            server._create_database()
            if owner is not None:
                server._watch(owner)
            return server
        except BaseException:
            _stop_quietly(bindir, root)
            shutil.rmtree(root, ignore_errors=True)
            raise

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its folder."""
        try:
            if self.running():
                self._run(
                    "pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60"
                )
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def running(self) -> bool:
        if not (self.data_dir / "postmaster.pid").exists():
            return False
        result = self._run("pg_ctl", "status", "-D", str(self.data_dir), check=False)
        return result.returncode == 0

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- where it is ---------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def conninfo(self, database: str | None = None) -> str:
        """A libpq connection string (for psycopg.connect)."""
        return (
            f"host={self.host} port={self.port} user={self.user} "
            f"password={self.password} dbname={database or self.database}"
        )

    def connect(self, database: str | None = None, **kwargs: Any) -> Any:
        """A psycopg 3 connection to ``database`` (default: ecom)."""
        import psycopg

        return psycopg.connect(self.conninfo(database), **kwargs)

    def env(self, database: str | None = None, schema: str = SCHEMA) -> dict[str, str]:
        """The variables of the dbt ``postgres`` target (and of ``ecom load --target postgres``)."""
        return {
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_DATABASE": database or self.database,
            "POSTGRES_SCHEMA": schema,
            "DBT_ENV_SECRET_POSTGRES_PASSWORD": self.password,
        }

    def create_database(self, name: str) -> None:
        """A new empty database on this server (tests take one each)."""
        with self.connect("postgres", autocommit=True) as con:
            con.execute(f'create database "{name}" template template0')

    def drop_database(self, name: str) -> None:
        with self.connect("postgres", autocommit=True) as con:
            con.execute(f'drop database if exists "{name}" with (force)')

    # -- state file (``ecom postgres up`` leaves the server running between commands) ----------

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
        path.write_text(json.dumps(state, indent=1))
        path.chmod(0o600)  # it holds the password

    @classmethod
    def load(cls, path: Path) -> PostgresServer:
        state = json.loads(path.read_text())
        return cls(
            root=Path(state["root"]),
            port=int(state["port"]),
            password=state["password"],
            host=state["host"],
            user=state["user"],
            database=state["database"],
            bindir=Path(state["bindir"]),
        )

    # -- internals -------------------------------------------------------------------------------

    def _run(
        self, program: str, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return _run_as_server_user(self.bindir, program, *args, check=check)

    def _initdb(self) -> None:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        runner = _server_user()
        if runner is not None:
            os.chown(pwfile, runner.pw_uid, runner.pw_gid)
        pwfile.chmod(0o600)
        try:
            self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                self.user,
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def _pg_ctl_start(self, settings: dict[str, str]) -> None:
        options = [
            f"-c listen_addresses={self.host}",
            f"-c port={self.port}",
            f"-c unix_socket_directories={self.root}",
            *(f"-c {k}={v}" for k, v in settings.items()),
        ]
        result = self._run(
            "pg_ctl",
            "start",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            "60",
            "-o",
            " ".join(options),
            check=False,
        )
        if result.returncode != 0:
            log = (
                self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            )
            raise PostgresError(
                f"pg_ctl start failed on port {self.port}: {result.stderr.strip()} {log}".strip()
            )

    def _watch(self, owner: int) -> None:
        import sys

        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ecom.pg.watchdog",
                str(owner),
                str(self.root),
                str(self.bindir),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            cwd="/",
        )

    def _create_database(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                self.create_database(self.database)
                return
            except Exception as exc:  # the server may still refuse connections for a moment
                if time.monotonic() > deadline:
                    raise PostgresError(f"cannot create database {self.database}: {exc}") from exc
                time.sleep(0.1)


def _run_as_server_user(
    bindir: Path, program: str, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    command = [str(bindir / program), *args]
    runner = _server_user()
    if runner is not None:
        command = [
            "setpriv",
            f"--reuid={runner.pw_uid}",
            f"--regid={runner.pw_gid}",
            "--clear-groups",
            "--",
            *command,
        ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
        env={**os.environ, "LC_ALL": "C", "TZ": "UTC"},
        # pg_ctl's postmaster must outlive this call but not be tied to our terminal
        start_new_session=True,
    )
    if check and result.returncode != 0:
        raise PostgresError(
            f"{program} failed ({result.returncode}): {(result.stderr or result.stdout).strip()}"
        )
    return result


def _stop_quietly(bindir: Path, root: Path) -> None:
    data = root / "data"
    if (data / "postmaster.pid").exists():
        _run_as_server_user(
            bindir, "pg_ctl", "stop", "-D", str(data), "-m", "immediate", check=False
        )

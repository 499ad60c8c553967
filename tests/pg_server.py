"""A throwaway PostgreSQL server for the tests: Debian's `postgresql` binaries, a cluster in a temporary folder,
listening on 127.0.0.1 only, trust authentication, fsync off; stopped at the end of the session.

`initdb` refuses to run as root, so as root the cluster belongs to the `postgres` user (runuser). Each test gets its
own database, cloned from a template that was migrated and seeded once (CREATE DATABASE … TEMPLATE), so a test
starts from exactly what `qjgb init` makes, in milliseconds.

QJGB_TEST_PG_URL=postgresql+psycopg://user:pw@host:port/ uses a running server instead (it must allow CREATE
DATABASE).
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

TEMPLATE = "qjgb_template"


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, base_url: str, folder: Path | None = None, owner: str | None = None) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.folder, self.owner = folder, owner
        self._names = itertools.count(1)
        self._template_ready = False

    @classmethod
    def start(cls) -> "Cluster":
        given = os.environ.get("QJGB_TEST_PG_URL")
        if given:
            return cls(given)
        bin_dir = _binaries()
        if bin_dir is None:
            raise RuntimeError("找不到 PostgreSQL（initdb）。测试需要 Debian 的 postgresql 软件包："
                               "bash tools/setup.sh test 会安装它。")
        folder = Path(tempfile.mkdtemp(prefix="qjgb-pg-"))
        owner = "postgres" if os.geteuid() == 0 else None
        if owner:
            shutil.chown(folder, owner)
        port = _free_port()

        def run(*args):
            cmd = [str(bin_dir / args[0]), *args[1:]]
            if owner:
                cmd = ["runuser", "-u", owner, "--", *cmd]
            subprocess.run(cmd, check=True, capture_output=True, cwd="/tmp")
        run("initdb", "-D", str(folder / "data"), "--auth=trust", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8")
        run("pg_ctl", "-D", str(folder / "data"), "-l", str(folder / "log"), "-w", "-o",
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            f"-c full_page_writes=off -c max_connections=200", "start")
        cluster = cls(f"postgresql+psycopg://postgres@127.0.0.1:{port}/", folder, owner)
        cluster._bin = bin_dir
        return cluster

    def _admin(self):
        import psycopg

        return psycopg.connect(self.base_url.replace("postgresql+psycopg", "postgresql") + "postgres",
                               autocommit=True)

    def url(self, name: str) -> str:
        return self.base_url + name

    def empty_database(self) -> str:
        """A new, empty database (no tables): for migrations and migrate-to."""
        name = f"qjgb_t{os.getpid()}_{next(self._names)}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def fresh_database(self) -> str:
        """A new database as `qjgb init` leaves it: the schema at head and the built-in plan."""
        if not self._template_ready:
            from qjgb_desktop.services.safety.database import open_database

            with self._admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"')
                conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
            open_database(self.url(TEMPLATE)).close()
            self._template_ready = True
        name = f"qjgb_t{os.getpid()}_{next(self._names)}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
        return self.url(name)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.folder is None:
            return
        cmd = [str(self._bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "stop"]
        if self.owner:
            cmd = ["runuser", "-u", self.owner, "--", *cmd]
        subprocess.run(cmd, capture_output=True, cwd="/tmp")
        shutil.rmtree(self.folder, ignore_errors=True)

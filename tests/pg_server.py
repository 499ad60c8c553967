"""A throwaway PostgreSQL server for the tests: Debian's `postgresql` binaries, a cluster in a temporary folder,
listening on 127.0.0.1 only, fsync off; stopped at the end of the session. Set up as README's server mode asks:
logins over TCP are checked with SCRAM-SHA-256 (with auth_delay and connection logging), the program's databases
belong to a DBA login `qjgb_dba` that may create roles and databases but is no superuser; only the tests' own
housekeeping connects as the superuser, through the cluster's Unix socket.

`initdb` refuses to run as root, so as root the cluster belongs to the `postgres` user (runuser). Each test gets its
own database, cloned from a template that was migrated and seeded once (CREATE DATABASE … TEMPLATE), so a test
starts from exactly what `qjgb init` makes, in milliseconds.

QJGB_TEST_PG_URL=postgresql+psycopg://user:pw@host:port/ uses a running server instead (its user must be a
superuser).
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
DBA, DBA_PASSWORD = "qjgb_dba", "dba-Pw-7f3c9e"


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
    def __init__(self, base_url: str, folder: Path | None = None, owner: str | None = None,
                 admin_url: str | None = None) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.admin_url = admin_url or self.base_url
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
        run("initdb", "-D", str(folder / "data"), "--auth-local=trust", "--auth-host=scram-sha-256", "-U", "postgres",
            "-E", "UTF8", "--locale=C.UTF-8")
        run("pg_ctl", "-D", str(folder / "data"), "-l", str(folder / "log"), "-w", "-o",
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            f"-c full_page_writes=off -c max_connections=200 -c shared_preload_libraries=auth_delay "
            f"-c auth_delay.milliseconds=100 -c log_connections=on", "start")
        cluster = cls(f"postgresql+psycopg://{DBA}:{DBA_PASSWORD}@127.0.0.1:{port}/", folder, owner,
                      admin_url=f"postgresql+psycopg://postgres@/?host={folder}&port={port}")
        cluster._bin = bin_dir
        cluster.host, cluster.port = "127.0.0.1", port
        with cluster._admin() as conn:
            conn.execute(f"CREATE ROLE {DBA} LOGIN CREATEROLE CREATEDB PASSWORD '{DBA_PASSWORD}'")
        return cluster

    def _admin(self):
        import psycopg
        from sqlalchemy.engine import make_url

        u = make_url(self.admin_url)
        return psycopg.connect(host=u.query.get("host", u.host), port=u.query.get("port", u.port),
                               user=u.username, password=u.password, dbname="postgres", autocommit=True)

    def account_url(self, url: str) -> str:
        """The URL of database `url` as a PC has it: server and database, no login, no password."""
        from sqlalchemy.engine import make_url

        return make_url(url)._replace(username=None, password=None).render_as_string(hide_password=False)

    def log(self) -> str:
        return (self.folder / "log").read_text(encoding="utf-8", errors="replace") if self.folder else ""

    def url(self, name: str) -> str:
        return self.base_url + name

    def empty_database(self) -> str:
        """A new, empty database (no tables): for migrations and migrate-to."""
        name = f"qjgb_t{os.getpid()}_{next(self._names)}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" OWNER {self._dba}')
        return self.url(name)

    @property
    def _dba(self) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.base_url).username or "postgres"

    def fresh_database(self) -> str:
        """A new database as `qjgb init` leaves it: the schema at head and the built-in plan."""
        if not self._template_ready:
            from qjgb_desktop.services.safety.database import open_database

            with self._admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"')
                conn.execute(f'CREATE DATABASE "{TEMPLATE}" OWNER {self._dba}')
            open_database(self.url(TEMPLATE)).close()
            self._template_ready = True
        name = f"qjgb_t{os.getpid()}_{next(self._names)}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}" OWNER {self._dba}')
            # a database's own privileges are not copied with its contents: as `init` left the template's
            conn.execute(f'REVOKE ALL ON DATABASE "{name}" FROM PUBLIC')
            conn.execute(f'GRANT CONNECT, TEMPORARY ON DATABASE "{name}" TO {TEMPLATE}_owner, {TEMPLATE}_admin, '
                         f'{TEMPLATE}_supervisor, {TEMPLATE}_clerk, {TEMPLATE}_reader')
        return self.url(name)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if self.folder is None:
                return
            # the accounts a test made are logins of the whole cluster: gone with its database, as are the roles
            # of a database a test set up itself
            keep = {"postgres", DBA}
            template_roles = {f"{TEMPLATE}_{k}" for k in ("owner", "admin", "supervisor", "clerk", "reader")}
            names = [r for (r,) in conn.execute("SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_'")]
            doomed = [r for r in names if r not in keep and r not in template_roles]
            import psycopg

            for role in sorted(doomed, key=lambda r: r.endswith("_owner")):
                try:
                    conn.execute(f'DROP ROLE IF EXISTS "{role}"')
                except psycopg.Error:  # still used by another database a test keeps open
                    pass

    def stop(self) -> None:
        if self.folder is None:
            return
        cmd = [str(self._bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "stop"]
        if self.owner:
            cmd = ["runuser", "-u", self.owner, "--", *cmd]
        subprocess.run(cmd, capture_output=True, cwd="/tmp")
        shutil.rmtree(self.folder, ignore_errors=True)

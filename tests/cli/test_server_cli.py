"""The command line in server mode: the database chosen by --db, QJGB_DATABASE_URL or config.toml."""

import json
import os
import subprocess
import sys

from conftest import ROOT


def run(data_dir, *argv, env=None):
    base = {k: v for k, v in os.environ.items() if k != "QJGB_DATABASE_URL"}
    env = dict(base, QJGB_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run([sys.executable, "-m", "qjgb_desktop", *map(str, argv)], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)


def test_every_way_of_naming_the_server(data_dir, pg_cluster, monkeypatch):
    monkeypatch.delenv("QJGB_DATABASE_URL", raising=False)
    url = pg_cluster.empty_database()
    r = run(data_dir, "--db", url, "init")  # an empty server database: migrations and the plan
    assert r.returncode == 0, r.stderr
    assert "postgresql" in r.stdout and "已载入" in r.stdout
    r = run(data_dir, "--db", url, "progress", "add", "--measure", 3, "--year", 2026, "--status", "正常推进",
            "--percent", 40, "--date", "2026-03-01", "--reporter", "甲", "--done", "服务器上的报告")
    assert r.returncode == 0, r.stderr
    assert not (data_dir / "qjgb.sqlite3").exists()  # nothing went to a local file
    listed = run(data_dir, "progress", "list", "--json", env={"QJGB_DATABASE_URL": url})
    assert [x["done"] for x in json.loads(listed.stdout)] == ["服务器上的报告"]
    data_dir.mkdir(parents=True, exist_ok=True)
    from sqlalchemy.engine import make_url

    with_password = make_url(url)
    (data_dir / "config.toml").write_text(f'database_url = "{url}"\n', encoding="utf-8")  # a password on every PC
    refused = run(data_dir, "status", "--json")
    assert refused.returncode == 1 and "含有密码" in refused.stderr and with_password.password not in refused.stderr
    bare = with_password._replace(password=None).render_as_string(hide_password=False)
    (data_dir / "config.toml").write_text(f'database_url = "{bare}"\n', encoding="utf-8")
    status = run(data_dir, "status", "--json", "--today", "2026-03-02", env={"QJGB_PASSWORD": with_password.password})
    assert status.returncode == 0, status.stderr
    target = next(t for t in json.loads(status.stdout)["targets"] if t["measure"] == 3 and t["year"] == 2026)
    assert target["percent"] == 40
    pg_cluster.drop(url)


def test_a_server_that_cannot_be_reached_is_explained(data_dir):
    r = run(data_dir, "--db", "postgresql+psycopg://nobody@127.0.0.1:1/qjgb", "status")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "服务器" in r.stderr

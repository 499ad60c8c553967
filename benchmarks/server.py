"""Many PCs at once: N client processes add and correct reports and attach small evidence files for S seconds,
on a PostgreSQL server and, for comparison, on one SQLite file (same process count, same workload).

    python benchmarks/server.py [--clients 40] [--seconds 60] [--backends postgresql,sqlite] [--url URL]

Without --url a throwaway local server is started (Debian's postgresql; tests/pg_server.py). Each client is a
separate process running the program's own services; every operation is timed from the start of its transaction
to the return of its commit, and logged by the client only after the commit returned. Afterwards the database is
checked against the logs: every acknowledged report, correction and attachment is there exactly once, with its
content; nothing else from the clients is there (no duplicates); every report series has exactly one current
revision (nothing half-written); every attached content re-hashes to its SHA-256.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

TODAY = date(2026, 8, 15)


def worker(url: str, client: int, seconds: float, log_path: Path, files: Path) -> None:
    from qjgb_desktop.domain.validation import ReportInput
    from qjgb_desktop.services.evidence import records as evidence
    from qjgb_desktop.services.plan.query import plan_tree
    from qjgb_desktop.services.progress import reports as progress
    from qjgb_desktop.services.safety.database import open_database

    db = open_database(url, seed=False)
    rng = random.Random(client)
    with db.sessions() as s:
        targets = [(t.id, m.lead) for m in plan_tree(s).measures() for t in m.targets if t.year == 2026]
    mine: list[int] = []  # current ids of this client's reports (it corrects only its own)
    deadline = time.monotonic() + seconds
    n = 0
    with open(log_path, "w", encoding="utf-8") as log:
        while time.monotonic() < deadline:
            n += 1
            kind = "correct" if mine and n % 3 == 0 else "attach" if n % 5 == 0 else "add"
            tid, lead = rng.choice(targets)
            started = time.perf_counter()
            if kind == "add":
                data = ReportInput("2026Q3", date(2026, 8, 1), lead, f"客户端{client}", "正常推进",
                                   rng.randrange(60, 90), done=f"c{client}-{n}")
                with db.sessions.begin() as s:
                    view = progress.add_report(s, tid, data, f"client{client}", TODAY)
                mine.append(view.id)
                entry = {"op": kind, "id": view.id, "done": data.done}
            elif kind == "correct":
                base = mine.pop(rng.randrange(len(mine)))
                with db.sessions() as s:
                    old = next(r for r in progress.report_history_of(s, base) if r.id == base)
                data = ReportInput(old.period, old.report_date, old.department, old.reporter, "正常推进",
                                   min(95, old.percent + 1), done=f"c{client}-{n}")
                with db.sessions.begin() as s:
                    view = progress.correct_report(s, base, data, f"client{client}", TODAY)
                mine.append(view.id)
                entry = {"op": kind, "id": view.id, "base": base, "revision": view.revision, "done": data.done}
            else:
                body = f"client {client} file {n} ".encode() + os.urandom(4000)
                path = files / f"c{client}-{n}.pdf"
                path.write_bytes(b"%PDF-1.4\n" + body)
                with db.sessions.begin() as s:
                    [view] = evidence.attach(s, tid, [path], f"client{client}")
                entry = {"op": kind, "id": view.id, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
                path.unlink()
            entry["ms"] = (time.perf_counter() - started) * 1000  # logged only once the commit has returned
            log.write(json.dumps(entry) + "\n")
            log.flush()
    db.close()


def check(url: str, logs: list[Path]) -> dict:
    from sqlalchemy import func, select

    from qjgb_desktop.services.evidence.records import blob_store
    from qjgb_desktop.services.safety.database import open_database
    from qjgb_desktop.store.models import Evidence, EvidenceFile, ProgressReport

    db = open_database(url, seed=False)
    problems, ops = [], []
    for client, log in enumerate(logs):
        ops += [dict(json.loads(line), client=client) for line in log.read_text(encoding="utf-8").splitlines()]
    with db.sessions() as s:
        reports = {r.id: r for r in s.scalars(select(ProgressReport).where(ProgressReport.created_by.like("client%")))}
        files = {e.id: e for e in s.scalars(select(Evidence).where(Evidence.created_by.like("client%")))}
        shas = dict(s.execute(select(EvidenceFile.id, EvidenceFile.sha256)).all())
        store = blob_store(s)  # files on a single PC, chunks on the server
        for op in ops:
            if op["op"] in ("add", "correct"):
                r = reports.get(op["id"])
                if r is None or r.done != op["done"]:
                    problems.append(f"lost report {op}")
                elif op["op"] == "correct" and r.revision != op["revision"]:
                    problems.append(f"wrong revision {op}")
            else:
                e = files.get(op["id"])
                if e is None or shas.get(e.file_id) != op["sha256"]:
                    problems.append(f"lost evidence {op}")
                elif store.hash_of(op["sha256"]) != op["sha256"]:
                    problems.append(f"corrupt content {op}")
        logged_reports = sum(op["op"] != "attach" for op in ops)
        logged_files = sum(op["op"] == "attach" for op in ops)
        if len(reports) != logged_reports:
            problems.append(f"{len(reports)} client reports in the database, {logged_reports} acknowledged")
        if len(files) != logged_files:
            problems.append(f"{len(files)} client attachments in the database, {logged_files} acknowledged")
        series = s.execute(select(func.coalesce(ProgressReport.series_id, ProgressReport.id), func.count())
                           .where(ProgressReport.is_current.is_(True), ProgressReport.created_by.like("client%"))
                           .group_by(func.coalesce(ProgressReport.series_id, ProgressReport.id))).all()
        half = [sid for sid, count in series if count != 1]
        if half:
            problems.append(f"series with {len(half)} current revisions ≠ 1")
    db.close()
    latencies = sorted(op["ms"] for op in ops)
    return {"ops": len(ops), "adds": sum(op["op"] == "add" for op in ops),
            "corrections": sum(op["op"] == "correct" for op in ops), "attachments": logged_files,
            "p50": statistics.median(latencies) if latencies else 0,
            "p95": latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0, "problems": problems}


def run(backend: str, url: str, clients: int, seconds: float, work: Path) -> dict:
    logs = [work / f"{backend}-{i}.log" for i in range(clients)]
    files = work / f"{backend}-files"
    files.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT), QJGB_DATA_DIR=str(work / f"{backend}-data"))
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", url, str(i), str(seconds), str(logs[i]),
                               str(files)], env=env) for i in range(clients)]
    started = time.monotonic()
    codes = [p.wait() for p in procs]
    wall = time.monotonic() - started
    os.environ["QJGB_DATA_DIR"] = str(work / f"{backend}-data")
    from qjgb_desktop import paths

    paths.set_data_dir(work / f"{backend}-data")
    result = check(url, logs)
    result.update(backend=backend, clients=clients, seconds=seconds, wall=wall, failed_clients=sum(c != 0 for c in codes))
    result["throughput"] = result["ops"] / seconds
    return result


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _, _, url, client, seconds, log, files = sys.argv
        worker(url, int(client), float(seconds), Path(log), Path(files))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--url", help="a PostgreSQL database URL to use (default: a throwaway local server)")
    args = parser.parse_args()
    from qjgb_desktop.services.safety.database import open_database

    results, cluster = [], None
    with tempfile.TemporaryDirectory(prefix="qjgb-server-bench-") as tmp:
        work = Path(tmp)
        for backend in args.backends.split(","):
            if backend == "postgresql":
                if args.url:
                    url = args.url
                else:
                    from pg_server import Cluster

                    cluster = cluster or Cluster.start()
                    url = cluster.fresh_database()
            else:
                url = f"sqlite:///{work / 'sqlite-data' / 'qjgb.sqlite3'}"
            os.environ["QJGB_DATA_DIR"] = str(work / f"{backend}-data")
            from qjgb_desktop import paths

            paths.set_data_dir(work / f"{backend}-data")
            open_database(url).close()  # schema and plan before the clients start
            results.append(run(backend, url, args.clients, args.seconds, work))
        if cluster is not None:
            cluster.stop()
    print(f"\n{'backend':<11} {'clients':>7} {'ops':>6} {'ops/s':>7} {'p50 ms':>7} {'p95 ms':>7}  "
          f"adds/corrections/attachments  check")
    for r in results:
        verdict = "ok: nothing lost, duplicated or half-written" if not r["problems"] and not r["failed_clients"] \
            else f"FAILED ({r['failed_clients']} clients failed): " + "; ".join(r["problems"][:5])
        print(f"{r['backend']:<11} {r['clients']:>7} {r['ops']:>6} {r['throughput']:>7.1f} {r['p50']:>7.1f} "
              f"{r['p95']:>7.1f}  {r['adds']}/{r['corrections']}/{r['attachments']}  {verdict}")
    return 0 if all(not r["problems"] and not r["failed_clients"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

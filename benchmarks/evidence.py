"""Evidence ingest: attaching a mixed set of files against `cp` + `sha256sum` of the same files, same run.

    python benchmarks/evidence.py [--photos 300 --photo-mb 1.5 --scans 5 --scan-mb 100] [--runs 3]

The set (default ~950 MB: many photo-sized files and a few 100 MB scans) is made of random bytes in a temporary
folder. Floor: `cp` of every file into a fresh folder followed by `sha256sum` of the copies. Ours: one attach of
all files to one yearly target (hash while copying, fsync, rename, database records). Goal: ≤ 1.3× the floor.
Each measurement starts from a dropped page cache where the machine allows it (root), else from a warm one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_set(folder: Path, photos: int, photo_mb: float, scans: int, scan_mb: float) -> list[Path]:
    folder.mkdir(parents=True)
    files = []
    for i in range(photos):
        f = folder / f"现场照片_{i:04d}.jpg"
        f.write_bytes(os.urandom(int(photo_mb * 2**20 * (0.5 + (i % 10) / 10))))
        files.append(f)
    for i in range(scans):
        f = folder / f"批复扫描件_{i}.pdf"
        with open(f, "wb") as fh:
            for _ in range(int(scan_mb)):
                fh.write(os.urandom(2**20))
        files.append(f)
    return files


def drop_caches() -> None:
    subprocess.run(["sync"], check=False)
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        pass


def floor_run(files: list[Path], dest: Path) -> float:
    dest.mkdir()
    drop_caches()
    t = time.perf_counter()
    subprocess.run(["cp", *map(str, files), str(dest)], check=True)
    subprocess.run(["sha256sum", *map(str, sorted(dest.iterdir()))], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def ours_run(files: list[Path], data: Path) -> float:
    from qjgb_desktop import paths
    from qjgb_desktop.services.evidence import records as ev
    from qjgb_desktop.services.progress.reports import target_id_for
    from qjgb_desktop.services.safety.database import open_database

    paths.set_data_dir(data)
    db = open_database()
    with db.sessions() as s:
        target = target_id_for(s, 13, 2025)
    drop_caches()
    t = time.perf_counter()
    with db.sessions.begin() as s:
        ev.attach(s, target, files, "benchmark")
    elapsed = time.perf_counter() - t
    db.close()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=300)
    parser.add_argument("--photo-mb", type=float, default=1.5)
    parser.add_argument("--scans", type=int, default=5)
    parser.add_argument("--scan-mb", type=float, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="where to make the files (default: a temp folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        tmp = Path(tmp)
        files = make_set(tmp / "set", args.photos, args.photo_mb, args.scans, args.scan_mb)
        total = sum(f.stat().st_size for f in files)
        floors, ours = [], []
        for i in range(args.runs):
            floors.append(floor_run(files, tmp / f"cp{i}"))
            shutil.rmtree(tmp / f"cp{i}")
            ours.append(ours_run(files, tmp / f"data{i}"))
            shutil.rmtree(tmp / f"data{i}")
    f, o = statistics.median(floors), statistics.median(ours)
    mb = total / 2**20
    print(f"set: {len(files)} files, {mb:.0f} MB; {args.runs} runs each, alternating; medians")
    print(f"cp + sha256sum (floor)            {f:7.2f} s  {mb / f:6.0f} MB/s")
    print(f"qjgb attach (hash, fsync, record) {o:7.2f} s  {mb / o:6.0f} MB/s   ratio {o / f:.2f}x  (goal <= 1.3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

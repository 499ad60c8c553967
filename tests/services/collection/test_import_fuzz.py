"""Fuzz test of the Excel import: 1,000 mutated returns, zero tracebacks, zero hangs over 10 s, peak RSS under
500 MB, zero partial writes, every file-level message in Chinese.

The inputs come from tests/fuzz_worker.py (see its docstring for what is mutated and how it is checked), run as
two processes of 500 inputs each (one per core), with a fixed seed: the same inputs every run. A finding can be
reproduced alone with
    python tests/fuzz_worker.py /tmp/new-folder 20260920 0 --only INDEX --save /tmp/inputs
A worker that crashes or is stopped by its hard timeout is restarted after the input it was on, and that input
is reported with the worker's stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

WORKER = Path(__file__).resolve().parents[2] / "fuzz_worker.py"
SEED = 20260920
SHARDS = ((0, 500), (500, 500))  # (first input, count): inputs 0..999, one process per core
MIN_INPUTS = 1000
LIMIT_S, RSS_LIMIT_MB = 10.0, 500
PROCESS_TIMEOUT_S = 900  # a whole worker; a hang of one input is caught inside it (10 s alarm, 30 s hard exit)
MAX_RESTARTS = 10


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QJGB_")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONHASHSEED"] = "0"
    return env


def _read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run_shard(folder: Path, start: int, count: int) -> tuple[list[dict], list[dict]]:
    """Run inputs start..start+count-1; returns (worker summaries, failures of workers that died)."""
    summaries, failures = [], []
    index, end, attempt = start, start + count, 0
    while index < end:
        data_dir = folder / f"inputs{start}-run{attempt}"
        command = [sys.executable, str(WORKER), str(data_dir), str(SEED), str(end - index), "--start", str(index)]
        try:
            proc = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", errors="replace",
                                  timeout=PROCESS_TIMEOUT_S, env=_env())
            code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as exc:  # subprocess.run has killed it
            code, stdout, stderr = "timeout", exc.stdout or "", exc.stderr or ""
            stdout, stderr = (s.decode("utf-8", "replace") if isinstance(s, bytes) else s for s in (stdout, stderr))
        lines = [line for line in stdout.splitlines() if line.startswith("{")]
        if code == 0 and lines:
            summary = json.loads(lines[-1])
            summary["exit"] = code
            summaries.append(summary)
            break
        # the worker died (crash, hard hang, or an error before the first input): blame the input it was on
        current_file = data_dir / "fuzz-current.json"
        current = json.loads(current_file.read_text(encoding="utf-8")) if current_file.is_file() else None
        failures += _read_jsonl(data_dir / "fuzz-failures.jsonl")
        failures.append({"index": current["index"] if current else index, "kind": current["kind"] if current else
                         "(before the first input)", "stage": "crash", "seed": SEED,
                         "error": f"worker exited with {code}", "traceback": stderr[-3000:]})
        if current is None or attempt >= MAX_RESTARTS:
            break
        summaries.append({"inputs": current["index"] - index + 1, "failures": [], "slowest_s": 0.0, "maxrss_mb": 0.0,
                          "exit": code})
        index, attempt = current["index"] + 1, attempt + 1
    return summaries, failures


def describe(failures: list[dict], limit: int = 12) -> str:
    """Distinct failures (stage, error, innermost frame), each with how often and one input to reproduce it."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for f in failures:
        frames = [line.strip() for line in f.get("traceback", "").splitlines() if line.strip().startswith("File ")]
        where = next((fr for fr in reversed(frames) if "fuzz_worker.py" not in fr), frames[-1] if frames else "")
        groups[(f["stage"], f["error"].split(":")[0][:80], where)].append(f)
    out = []
    for (stage, _, where), items in sorted(groups.items(), key=lambda kv: -len(kv[1]))[:limit]:
        f = items[0]
        out.append(f"[{stage}] ×{len(items)}, e.g. input {f['index']} ({f['kind'][:120]}): {f['error'][:300]}"
                   + (f"\n    at {where}" if where else "")
                   + (f"\n    {f['traceback'].strip().splitlines()[-1][:200]}" if f.get("traceback") else ""))
    if len(groups) > limit:
        out.append(f"... and {len(groups) - limit} more kinds")
    return "\n".join(out)


def test_import_survives_1000_mutated_returns(tmp_path):
    started = time.monotonic()
    with ThreadPoolExecutor(len(SHARDS)) as pool:
        results = list(pool.map(lambda shard: run_shard(tmp_path, *shard), SHARDS))
    elapsed = time.monotonic() - started
    summaries = [s for shard, _ in results for s in shard]
    failures = [f for shard, died in results for f in [*(x for s in shard for x in s["failures"]), *died]]
    inputs = sum(s["inputs"] for s in summaries)
    slowest = max((s["slowest_s"] for s in summaries), default=0.0)
    maxrss = max((s["maxrss_mb"] for s in summaries), default=0.0)
    print(f"\nfuzz: {inputs} inputs in {elapsed:.0f} s, slowest {slowest:.2f} s, peak RSS {maxrss:.0f} MB, "
          f"outcomes {[s.get('outcomes') for s in summaries]}, {len(failures)} failures")

    assert not failures, f"{len(failures)} failing inputs of {inputs} (seed {SEED}):\n{describe(failures)}"
    assert inputs >= MIN_INPUTS
    assert all(s["exit"] == 0 for s in summaries)
    assert slowest < LIMIT_S, [s["slowest"] for s in summaries]
    assert maxrss < RSS_LIMIT_MB, [s["rss_peaks"] for s in summaries]
    outcomes = defaultdict(int)
    for s in summaries:
        for k, v in s["outcomes"].items():
            outcomes[k] += v
    # the inputs reach every stage: refused files, files with row errors, files imported
    assert outcomes["refused"] > 100 and outcomes["rows_error"] > 50 and outcomes["committed"] > 100, dict(outcomes)

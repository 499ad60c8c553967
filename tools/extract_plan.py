"""Extract the plan record from the document's text export.

    python tools/extract_plan.py [SOURCE.txt] [--out resources/plan/plan.json]

Run it again when a revised document (e.g. the 正式稿) arrives, review the diff of plan.json, and load it
into a running installation with `qjgb plan load plan.json`; progress tied to unchanged targets is kept.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qjgb_desktop.planparse.build import build_from_text  # noqa: E402
from qjgb_desktop.planparse.document import PlanDocumentError  # noqa: E402

DEFAULT_SOURCE = ROOT / "resources/plan/source/yanqing-qjgb-2025-2027-draft.txt"
DEFAULT_OUT = ROOT / "resources/plan/plan.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    try:
        plan = build_from_text(args.source.read_text(encoding="utf-8"), args.source.name)
    except (OSError, PlanDocumentError) as exc:
        print(f"错误：{args.source}: {exc}", file=sys.stderr)
        return 1
    args.out.write_text(json.dumps(plan, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    n_ind = sum(len(m["indicators"]) for a in plan["actions"] for m in a["measures"])
    n_meas = sum(len(a["measures"]) for a in plan["actions"])
    print(f"{args.out}: {len(plan['actions'])} 项任务, {n_meas} 项措施, {n_meas * len(plan['years'])} 个年度目标, {n_ind} 个指标")
    return 0


if __name__ == "__main__":
    sys.exit(main())

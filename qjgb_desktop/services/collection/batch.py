"""What one import decides across its files, after each has been read and checked (returns.py) and before anything
is written (commit.py): which of several returns of the same template counts, which period is being collected,
and which indicator values contradict each other."""

from __future__ import annotations

from datetime import datetime

from qjgb_desktop.domain.periods import parse_period
from qjgb_desktop.services.collection.returns import ImportPreview


def check_batch(previews: list[ImportPreview], collecting: str | None = None) -> str:
    """What one import decides across its files: returns of the same template (department and period) — the one
    saved later wins (its own saved time, then its content, so the choice never depends on file order), the others
    are marked superseded; and the period being collected (`collecting`, else the latest period among the files):
    a return for another period is marked, and is imported only by an explicit choice. Returns that period."""
    readable = [p for p in previews if not p.errors and p.period]
    if collecting:
        collecting = collecting.strip().upper()
    elif readable:
        collecting = max((parse_period(p.period) for p in readable), key=lambda x: (x.end, x.code)).code
    by_template: dict[tuple[str, str], list[ImportPreview]] = {}
    for p in readable:
        by_template.setdefault(p.template, []).append(p)
        p.other_period = collecting if collecting and p.period != collecting else ""
    for group in by_template.values():
        group.sort(key=lambda p: (p.saved_at or datetime.min, p.sha256), reverse=True)
        for older in group[1:]:
            if older.sha256 != group[0].sha256:
                older.superseded_by = group[0].file.name
    return collecting or ""

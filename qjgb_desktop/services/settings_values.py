"""The settings as plain values, without SQLAlchemy: shared by load_settings and the window's quick first status
(which reads the setting table through sqlite3)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..domain.periods import QUARTERLY
from ..domain.status import Thresholds


@dataclass(frozen=True)
class AppSettings:
    thresholds: Thresholds = Thresholds()
    scheme: str = QUARTERLY
    admins: tuple[str, ...] = field(default_factory=tuple)
    max_evidence_mb: float = 500.0


def settings_from_values(values: dict) -> AppSettings:
    t = values.get("thresholds") or {}
    return AppSettings(
        thresholds=Thresholds(float(t.get("green_margin", 10)), float(t.get("yellow_margin", 25))),
        scheme=values.get("period_scheme") or QUARTERLY,
        admins=tuple(values.get("admins") or ()),
        max_evidence_mb=float(values.get("max_evidence_mb") or 500),
    )

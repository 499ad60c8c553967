"""留痕: reading the audit log (who, when, what, before → after)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from qjgb_desktop.store.models import AuditEvent


def list_events(session: Session, limit: int = 50, entity: str | None = None) -> list[dict]:
    q = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if entity:
        q = q.where(AuditEvent.entity == entity)
    return [{"id": e.id, "at": e.at.isoformat(timespec="seconds"), "actor": e.actor, "action": e.action,
             "entity": e.entity, "entity_id": e.entity_id, "before": e.before, "after": e.after, "reason": e.reason}
            for e in session.scalars(q)]


def describe_change(before: dict | None, after: dict | None) -> str:
    """The fields that changed, as 字段: 旧 → 新."""
    before, after = before or {}, after or {}
    keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
    return "；".join(f"{k}: {before.get(k, '—')} → {after.get(k, '—')}" for k in keys)

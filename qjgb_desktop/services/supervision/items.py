"""督办 to closure: an item's life 立项 → 交办 → 反馈 → 办结, or back to waiting with 继续督办.

Every step is a new row with who recorded it and when, and an audit event; nothing is changed or removed. An item
is created from a lagging target (滞后, 逾期 or 未填报, addressed to the target's lead department) or by hand with a
reason (for a target or for a department alone). A target has at most one open item at a time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from qjgb_desktop.domain.status import NEEDS_FOLLOW_UP
from qjgb_desktop.domain.validation import clean_text
from qjgb_desktop.services.accounts.access import require
from qjgb_desktop.services.settings.record import load_settings
from qjgb_desktop.store.models import (
    AuditEvent,
    Department,
    Evidence,
    NoticeRecord,
    SupervisionItem,
    SupervisionStep,
    YearlyTarget,
)

OPENED, ASSIGNED, ANSWERED, CONTINUED, CLOSED = "立项", "交办", "反馈", "继续督办", "办结"
STAGES = (OPENED, ASSIGNED, ANSWERED, CONTINUED, CLOSED)
OPEN_STAGES = (OPENED, ASSIGNED, ANSWERED, CONTINUED)
WAITING = (ASSIGNED, CONTINUED)  # waiting for the department's answer, by feedback_due
# Which step may follow which stage.
NEXT = {OPENED: (ASSIGNED,), ASSIGNED: (ANSWERED,), CONTINUED: (ANSWERED, ASSIGNED), ANSWERED: (CLOSED, CONTINUED),
        CLOSED: ()}
ORIGINS = {"target": "滞后目标", "manual": "人工立项"}
MAX_TEXT = 4000


class SupervisionError(ValueError):
    """A step the record does not allow (wrong order, missing reason, unknown item); the message says why."""


@dataclass(frozen=True)
class StepView:
    id: int
    kind: str
    day: date
    at: datetime
    actor: str
    to_whom: str = ""
    notice_file: str = ""
    notice_sha256: str = ""
    answer: str = ""
    evidence_ids: tuple[int, ...] = ()
    note: str = ""
    feedback_due: date | None = None
    notice_no: str = ""

    def summary(self) -> str:
        notice = " ".join(filter(None, (self.notice_no, self.notice_file)))
        parts = {ASSIGNED: [f"交办给 {self.to_whom}", f"通知单 {notice}" if notice else ""],
                 ANSWERED: [self.answer, f"佐证 {len(self.evidence_ids)} 件" if self.evidence_ids else ""]}
        bits = [p for p in parts.get(self.kind, []) if p] + ([self.note] if self.note else [])
        if self.feedback_due:
            bits.append(f"反馈期限 {self.feedback_due.isoformat()}")
        return "；".join(bits)


@dataclass(frozen=True)
class ItemView:
    id: int
    target_id: int | None
    measure_no: int | None
    year: int | None
    department: str
    origin: str
    reason: str
    stage: str
    opened_on: date
    feedback_due: date | None
    overdue: bool
    closed_on: date | None = None
    created_by: str = ""
    steps: list[StepView] = field(default_factory=list)

    @property
    def subject(self) -> str:
        return f"措施{self.measure_no}·{self.year}年" if self.measure_no else "（部门事项）"

    def as_json(self) -> dict:
        def iso(d):
            return d.isoformat() if d else None
        return {"id": self.id, "target_id": self.target_id, "measure": self.measure_no, "year": self.year,
                "department": self.department, "origin": ORIGINS.get(self.origin, self.origin),
                "reason": self.reason, "stage": self.stage, "opened_on": iso(self.opened_on),
                "feedback_due": iso(self.feedback_due), "overdue": self.overdue, "closed_on": iso(self.closed_on),
                "steps": [{"kind": s.kind, "day": iso(s.day), "at": s.at.isoformat(timespec="seconds"),
                           "actor": s.actor, "summary": s.summary()} for s in self.steps]}


def _view(item: SupervisionItem, today: date) -> ItemView:
    target = item.target
    return ItemView(
        id=item.id, target_id=item.yearly_target_id, measure_no=target.measure.no if target else None,
        year=target.year if target else None, department=item.department.name, origin=item.origin,
        reason=item.reason, stage=item.stage, opened_on=item.opened_on, feedback_due=item.feedback_due,
        overdue=item.stage in WAITING and item.feedback_due is not None and item.feedback_due < today,
        closed_on=item.closed_on, created_by=item.created_by,
        steps=[StepView(s.id, s.kind, s.day, s.at, s.actor, s.to_whom, s.notice_file, s.notice_sha256, s.answer,
                        tuple(s.evidence_ids or ()), s.note, s.feedback_due, s.notice_no or "")
               for s in item.steps])


def _text(value, what: str, required: bool = False, multiline: bool = True) -> str:
    value = clean_text(value, multiline=multiline).strip()
    if required and not value:
        raise SupervisionError(f"请填写{what}")
    if len(value) > MAX_TEXT:
        raise SupervisionError(f"{what}过长（{len(value)} 字），最多 {MAX_TEXT} 字")
    return value


def _actor(actor: str) -> str:
    actor = clean_text(actor, multiline=False).strip()
    if not actor:
        raise SupervisionError("操作人姓名不能为空")
    return actor


def _audit(session: Session, actor: str, action: str, item: SupervisionItem, before: str | None, after: dict,
           reason: str = "") -> None:
    session.add(AuditEvent(at=datetime.now(), actor=actor, action=action, entity="supervision_item",
                           entity_id=item.id, before={"stage": before} if before else None, after=after,
                           reason=reason))


def _item(session: Session, item_id: int) -> SupervisionItem:
    item = session.get(SupervisionItem, item_id)
    if item is None:
        raise SupervisionError(f"督办事项 #{item_id} 不存在")
    return item


def _lead_department(session: Session, target: YearlyTarget) -> Department:
    from qjgb_desktop.store.models import MeasureDepartment

    return session.scalars(select(Department).join(MeasureDepartment).where(
        MeasureDepartment.measure_id == target.measure_id).order_by(MeasureDepartment.position)).first()


def open_item(session: Session, actor: str, day: date, *, target_id: int | None = None,
              department: str | None = None, reason: str = "", origin: str = "manual") -> ItemView:
    """立项. For a target the department defaults to its lead; by hand a reason is required."""
    actor = _actor(actor)
    require(session, actor, "supervision.open")
    reason = _text(reason, "立项原因", required=(origin == "manual"))
    target = None
    if target_id is not None:
        target = session.get(YearlyTarget, target_id)
        if target is None or target.retired:
            raise SupervisionError(f"年度目标 {target_id} 不存在")
        existing = session.scalar(select(SupervisionItem.id).where(
            SupervisionItem.yearly_target_id == target_id, SupervisionItem.stage.in_(OPEN_STAGES)))
        if existing is not None:
            raise SupervisionError(f"措施{target.measure.no}·{target.year}年已有未办结的督办事项 #{existing}")
    if department:
        dept = session.scalar(select(Department).where(Department.name == clean_text(department, False).strip()))
        if dept is None:
            raise SupervisionError(f"没有名为“{department}”的部门")
    elif target is not None:
        dept = _lead_department(session, target)
    else:
        raise SupervisionError("请指定督办的年度目标或部门")
    item = SupervisionItem(yearly_target_id=target_id, department_id=dept.id, origin=origin, reason=reason,
                           stage=OPENED, opened_on=day, created_at=datetime.now(), created_by=actor)
    session.add(item)
    session.flush()
    session.add(SupervisionStep(item_id=item.id, kind=OPENED, day=day, at=datetime.now(), actor=actor, note=reason,
                                evidence_ids=[]))
    _audit(session, actor, "supervision.open", item, None,
           {"stage": OPENED, "department": dept.name, "target_id": target_id, "reason": reason})
    session.flush()
    session.refresh(item)
    return _view(item, day)


def open_from_follow_ups(session: Session, actor: str, today: date, department: str | set[str] | None = None
                         ) -> list[ItemView]:
    """立项 for every target now needing follow-up (滞后, 逾期, 未填报) that has no open item yet; for one lead
    department, a set of them, or all."""
    from qjgb_desktop.services.progress.status import compute_status, follow_ups

    require(session, actor, "supervision.open")  # refused at once, not only when there is something to open
    snap = compute_status(session, today)
    wanted = {department} if isinstance(department, str) else department
    made = []
    for dept, items in follow_ups(snap).items():
        if wanted is not None and dept not in wanted:
            continue
        for f in items:
            busy = session.scalar(select(SupervisionItem.id).where(
                SupervisionItem.yearly_target_id == f.target_id, SupervisionItem.stage.in_(OPEN_STAGES)))
            if busy is None and f.state in NEEDS_FOLLOW_UP:
                since = ("，从未填报" if f.days_since_report is None else
                         f"，{f.days_since_report} 天未报" if f.days_since_report > 0 else "")
                made.append(open_item(session, actor, today, target_id=f.target_id, origin="target",
                                      reason=f"{f.state}（完成度 {f.percent}%{since}）"))
    return made


def _step(session: Session, item: SupervisionItem, kind: str, actor: str, day: date, **values) -> ItemView:
    if kind not in NEXT[item.stage]:
        allowed = "、".join(NEXT[item.stage]) or "无（已办结）"
        raise SupervisionError(f"督办事项 #{item.id} 当前为“{item.stage}”，不能{kind}；可进行：{allowed}")
    if day < item.opened_on:
        raise SupervisionError(f"{kind}日期 {day.isoformat()} 早于立项日期 {item.opened_on.isoformat()}")
    before = item.stage
    step = SupervisionStep(item_id=item.id, kind=kind, day=day, at=datetime.now(), actor=actor,
                           evidence_ids=[], **values)
    session.add(step)
    item.stage = kind
    if kind in WAITING:
        item.feedback_due = values.get("feedback_due")
    if kind == CLOSED:
        item.closed_on = day
    session.flush()
    after = {"stage": kind, **{k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items() if v}}
    _audit(session, actor, f"supervision.{_ACTIONS[kind]}", item, before, after, reason=values.get("note", ""))
    session.flush()
    session.refresh(item)
    return _view(item, day)


_ACTIONS = {ASSIGNED: "assign", ANSWERED: "answer", CONTINUED: "continue", CLOSED: "close"}


def assign(session: Session, item_id: int, actor: str, day: date, to_whom: str, notice: Path | None = None,
           feedback_due: date | None = None, notice_no: str = "") -> ItemView:
    """交办: sent on `day` to whom, with the notice's file (its name and content hash are kept) and, for a registered
    notice, its number."""
    item = _item(session, item_id)
    actor = _actor(actor)
    require(session, actor, "supervision.assign")
    to_whom = _text(to_whom, "交办对象", required=True, multiline=False)
    due = feedback_due or _feedback_due(session, day)
    if due < day:
        raise SupervisionError(f"反馈期限 {due.isoformat()} 早于交办日期 {day.isoformat()}")
    name, digest = "", ""
    if notice is not None:
        try:
            digest = _sha256(notice)
        except OSError as exc:
            raise SupervisionError(f"读不了通知单文件“{notice}”：{exc.strerror or exc}") from exc
        name = clean_text(notice.name, multiline=False)
    return _step(session, item, ASSIGNED, actor, day, to_whom=to_whom, notice_file=name, notice_sha256=digest,
                 feedback_due=due, notice_no=clean_text(notice_no, multiline=False).strip())


def answer(session: Session, item_id: int, actor: str, day: date, text: str,
           evidence_ids: list[int] | None = None) -> ItemView:
    """反馈: the department's answer, with evidence already attached to the item's target."""
    item = _item(session, item_id)
    actor = _actor(actor)
    require(session, actor, "supervision.answer", department=item.department.name)  # 部门填报员: their items
    text = _text(text, "反馈内容", required=True)
    ids = sorted(set(evidence_ids or []))
    for eid in ids:
        ev = session.get(Evidence, eid)
        if ev is None or ev.deleted:
            raise SupervisionError(f"佐证材料 #{eid} 不存在或已移除")
        if item.yearly_target_id is not None and ev.yearly_target_id != item.yearly_target_id:
            raise SupervisionError(f"佐证材料 #{eid} 不属于该督办事项的年度目标")
    view = _step(session, item, ANSWERED, actor, day, answer=text)
    if ids:
        step = session.get(SupervisionStep, view.steps[-1].id)
        step.evidence_ids = ids
        session.flush()
        session.refresh(item)
        view = _view(item, day)
    return view


def close(session: Session, item_id: int, actor: str, day: date, note: str = "") -> ItemView:
    """办结, after the department's answer."""
    item = _item(session, item_id)
    require(session, actor, "supervision.close")
    return _step(session, item, CLOSED, _actor(actor), day, note=_text(note, "办结意见"))


def continue_item(session: Session, item_id: int, actor: str, day: date, note: str,
                  feedback_due: date | None = None) -> ItemView:
    """继续督办: the answer is not enough; why, and the new deadline."""
    item = _item(session, item_id)
    actor = _actor(actor)
    require(session, actor, "supervision.continue")
    note = _text(note, "继续督办的理由", required=True)
    due = feedback_due or _feedback_due(session, day)
    if due < day:
        raise SupervisionError(f"反馈期限 {due.isoformat()} 早于 {day.isoformat()}")
    return _step(session, item, CONTINUED, actor, day, note=note, feedback_due=due)


@dataclass(frozen=True)
class NoticeNumber:
    year: int
    seq: int
    text: str  # as printed: 督办〔2026〕3号


def notice_number(prefix: str, year: int, seq: int) -> str:
    return f"{prefix}〔{year}〕{seq}号"


def next_notice_numbers(session: Session, day: date, departments: list[str]) -> dict[str, NoticeNumber]:
    """The numbers the notices to these departments, dated `day`, will carry: the year's next ones, in this order.
    Given out for good only when assign_notices records them in the same write transaction (the write lock keeps
    two offices from taking the same ones; the unique (year, seq) would refuse it anyway)."""
    prefix = load_settings(session).notice_prefix
    last = session.scalar(select(func.max(NoticeRecord.seq)).where(NoticeRecord.year == day.year)) or 0
    return {d: NoticeNumber(day.year, last + i, notice_number(prefix, day.year, last + i))
            for i, d in enumerate(departments, 1)}


def assign_notices(session: Session, actor: str, day: date, notices: dict[str, Path],
                   numbers: dict[str, NoticeNumber] | None = None) -> list[ItemView]:
    """A 督办通知单 sent to each department: its lagging targets without an item are opened first, then every item of
    the department still at 立项 is recorded as 交办 to the department, with that notice's file. With `numbers`
    (next_notice_numbers) each notice is also entered in the 发文登记 with its number, which its 交办 steps name."""
    require(session, actor, "supervision.assign")
    open_from_follow_ups(session, actor, day, department=set(notices))
    sent = []
    for department, path in notices.items():
        number = (numbers or {}).get(department)
        items = list_items(session, day, department=department, stage=OPENED)
        for item in items:
            sent.append(assign(session, item.id, actor, day, department, notice=path,
                               notice_no=number.text if number else ""))
        if number is not None:
            _register(session, actor, day, department, path, number, len(items))
    return sent


def _register(session: Session, actor: str, day: date, department: str, path: Path, number: NoticeNumber,
              items: int) -> None:
    dept = session.scalars(select(Department).where(Department.name == department)).one()
    record = NoticeRecord(year=number.year, seq=number.seq, number=number.text, department_id=dept.id, issued_on=day,
                          file_name=clean_text(path.name, multiline=False), sha256=_sha256(path), items=items,
                          at=datetime.now(), actor=actor)
    session.add(record)
    session.flush()
    session.add(AuditEvent(at=record.at, actor=actor, action="notice.register", entity="notice_record",
                           entity_id=record.id, before=None,
                           after={"number": number.text, "department": department, "file": record.file_name,
                                  "items": items}, reason=""))
    session.flush()


@dataclass(frozen=True)
class NoticeView:
    number: str
    year: int
    seq: int
    department: str
    issued_on: date
    file_name: str
    sha256: str
    items: int
    actor: str

    def as_json(self) -> dict:
        return {"number": self.number, "year": self.year, "seq": self.seq, "department": self.department,
                "issued_on": self.issued_on.isoformat(), "file": self.file_name, "sha256": self.sha256,
                "items": self.items, "actor": self.actor}


def list_notices(session: Session, year: int | None = None) -> list[NoticeView]:
    """The 发文登记: registered notices in number order (a year's, or all)."""
    q = (select(NoticeRecord).options(selectinload(NoticeRecord.department))
         .order_by(NoticeRecord.year, NoticeRecord.seq))
    if year is not None:
        q = q.where(NoticeRecord.year == year)
    return [NoticeView(r.number, r.year, r.seq, r.department.name, r.issued_on, r.file_name, r.sha256, r.items,
                       r.actor) for r in session.scalars(q)]


def _feedback_due(session: Session, day: date) -> date:
    from qjgb_desktop.services.supervision.calendar import feedback_deadline

    return feedback_deadline(load_settings(session), day)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def list_items(session: Session, today: date, *, department: str | None = None, stage: str | None = None,
               target_id: int | None = None, year: int | None = None, overdue_only: bool = False,
               open_only: bool = False) -> list[ItemView]:
    """The items, newest first, filtered; `year` keeps items opened that year or for a target of that year."""
    q = (select(SupervisionItem).options(selectinload(SupervisionItem.steps),
                                         selectinload(SupervisionItem.department),
                                         selectinload(SupervisionItem.target).selectinload(YearlyTarget.measure))
         .order_by(SupervisionItem.id.desc()))
    if department:
        q = q.join(Department, Department.id == SupervisionItem.department_id).where(Department.name == department)
    if stage:
        q = q.where(SupervisionItem.stage == stage)
    if open_only:
        q = q.where(SupervisionItem.stage.in_(OPEN_STAGES))
    if target_id is not None:
        q = q.where(SupervisionItem.yearly_target_id == target_id)
    items = [_view(i, today) for i in session.scalars(q)]
    if year is not None:
        items = [i for i in items if (i.year == year if i.year else i.opened_on.year == year)]
    if overdue_only:
        items = [i for i in items if i.overdue]
    return items


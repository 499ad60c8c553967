"""The database tables, as SQLAlchemy 2.0 typed ORM models.

Plan content (actions, measures, targets, indicators) is keyed by what the document numbers, so a revised
plan file can be loaded over an existing one: rows are updated in place and keep their ids, and everything
recorded against a yearly target or an indicator (progress, actual values, evidence) stays attached.
Nothing here is deleted when a revised plan drops an item: it is marked retired.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    # Named constraints, so later migrations can alter them on SQLite (batch mode) and PostgreSQL alike.
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


class Plan(Base):
    __tablename__ = "plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))  # 征求意见稿 / 正式稿
    start_year: Mapped[int]
    end_year: Mapped[int]
    preamble: Mapped[str] = mapped_column(Text, default="")
    guiding_ideology: Mapped[str] = mapped_column(Text, default="")
    goals: Mapped[str] = mapped_column(Text, default="")
    annex_title: Mapped[str] = mapped_column(Text, default="")
    source_file: Mapped[str] = mapped_column(Text, default="")
    source_sha256: Mapped[str] = mapped_column(String(64), default="")
    record_sha256: Mapped[str] = mapped_column(String(64), default="")
    loaded_at: Mapped[datetime] = mapped_column(DateTime)

    actions: Mapped[list[Action]] = relationship(back_populates="plan", order_by="Action.no")
    safeguards: Mapped[list[Safeguard]] = relationship(order_by="Safeguard.no")


class Safeguard(Base):
    __tablename__ = "safeguard"
    __table_args__ = (UniqueConstraint("plan_id", "no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"))
    no: Mapped[int]
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)


class Action(Base):
    __tablename__ = "action"
    __table_args__ = (UniqueConstraint("plan_id", "no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"))
    no: Mapped[int]
    numeral: Mapped[str] = mapped_column(String(4))
    title: Mapped[str] = mapped_column(Text)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)

    plan: Mapped[Plan] = relationship(back_populates="actions")
    measures: Mapped[list[Measure]] = relationship(back_populates="action", order_by="Measure.no")


class Department(Base):
    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    aliases: Mapped[list] = mapped_column(JSON, default=list)


class Measure(Base):
    __tablename__ = "measure"
    __table_args__ = (UniqueConstraint("plan_id", "no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"))
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id"))
    no: Mapped[int]
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    department_note: Mapped[str] = mapped_column(Text, default="")
    department_sources: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    # The plan record says its cooperating departments must each report every period (not only the lead).
    cooperating_report: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    action: Mapped[Action] = relationship(back_populates="measures")
    departments: Mapped[list[MeasureDepartment]] = relationship(
        back_populates="measure", order_by="MeasureDepartment.position", cascade="all, delete-orphan")
    targets: Mapped[list[YearlyTarget]] = relationship(back_populates="measure", order_by="YearlyTarget.year")
    indicators: Mapped[list[Indicator]] = relationship(back_populates="measure", order_by="Indicator.position")


class MeasureDepartment(Base):
    """A department's role in one measure: the first listed leads (牵头), the others cooperate (配合)."""

    __tablename__ = "measure_department"
    __table_args__ = (UniqueConstraint("measure_id", "department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    role: Mapped[str] = mapped_column(String(16))  # lead / cooperating
    position: Mapped[int]
    listed_as: Mapped[str] = mapped_column(String(100), default="")

    measure: Mapped[Measure] = relationship(back_populates="departments")
    department: Mapped[Department] = relationship()


class YearlyTarget(Base):
    __tablename__ = "yearly_target"
    __table_args__ = (UniqueConstraint("measure_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id"))
    year: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)

    measure: Mapped[Measure] = relationship(back_populates="targets")


class Indicator(Base):
    __tablename__ = "indicator"
    __table_args__ = (UniqueConstraint("measure_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id"))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(16))
    comparator: Mapped[str] = mapped_column(String(2))  # >= <= =
    direction: Mapped[str] = mapped_column(String(8))  # higher / lower / equal
    note: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int]
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    # How the actual combines departments' values: "lead" (the lead department's latest, the default) or "sum"
    # (each department's latest, added up: a count every department contributes to). From the plan record.
    aggregate: Mapped[str] = mapped_column(String(16), default="lead", server_default="lead")

    measure: Mapped[Measure] = relationship(back_populates="indicators")
    targets: Mapped[list[IndicatorTarget]] = relationship(
        back_populates="indicator", order_by="IndicatorTarget.year", cascade="all, delete-orphan")


class IndicatorTarget(Base):
    __tablename__ = "indicator_target"
    __table_args__ = (UniqueConstraint("indicator_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    year: Mapped[int]
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(Text, default="")  # the phrase of the target text that gives the value

    indicator: Mapped[Indicator] = relationship(back_populates="targets")


class SoftDeleted:
    """Rows that are never removed: created by whom and when; deleted is a mark with who, when and why."""

    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    deleted_by: Mapped[str] = mapped_column(String(100), default="")
    delete_reason: Mapped[str] = mapped_column(Text, default="")


class ProgressReport(SoftDeleted, Base):
    """进展填报: one revision of one report on one yearly target for one reporting period.

    A correction adds a revision (same series_id, revision + 1) and marks the previous one not current; nothing is
    overwritten. Deleting marks the current revision deleted, with who, when and why.
    """

    __tablename__ = "progress_report"
    __table_args__ = (
        UniqueConstraint("series_id", "revision"),
        Index("ix_progress_report_latest", "yearly_target_id", "is_current", "deleted", "report_date", "id"),
        # One index seek per target and department finds its latest counting report (status_core.LATEST_SQL).
        Index("ix_progress_report_department", "yearly_target_id", "department_id", "report_date", "id"),
        Index("ix_progress_report_period", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # id of the first revision
    revision: Mapped[int] = mapped_column(default=1)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    yearly_target_id: Mapped[int] = mapped_column(ForeignKey("yearly_target.id"))
    period: Mapped[str] = mapped_column(String(16))  # 2025Q3 or 2025-09
    report_date: Mapped[date] = mapped_column(Date)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    reporter: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))  # 未启动 正常推进 滞后 已完成 暂缓
    percent: Mapped[int]
    done: Mapped[str] = mapped_column(Text, default="")  # 工作进展
    problems: Mapped[str] = mapped_column(Text, default="")  # 存在问题 (the cause, when it lags)
    next_steps: Mapped[str] = mapped_column(Text, default="")  # 下步计划 (the corrective step, when it lags)
    target: Mapped[YearlyTarget] = relationship()
    department: Mapped[Department] = relationship()


class IndicatorValue(SoftDeleted, Base):
    """An indicator's actual value as of a date, entered with a report or alone. Corrections add a row."""

    __tablename__ = "indicator_value"
    __table_args__ = (Index("ix_indicator_value_indicator", "indicator_id", "as_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    value: Mapped[float] = mapped_column(Float)
    as_of: Mapped[date] = mapped_column(Date)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("progress_report.id"), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))  # whose figure it is
    source: Mapped[str] = mapped_column(String(16), default="manual", server_default="manual")  # report/return/manual

    indicator: Mapped[Indicator] = relationship()
    department: Mapped[Department] = relationship()


class EvidenceFile(Base):
    """One stored content (evidence/ab/abcdef…); shared by every attachment of the same bytes."""

    __tablename__ = "evidence_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    stored_at: Mapped[datetime] = mapped_column(DateTime)
    purged_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # content deleted by a purge


class Evidence(SoftDeleted, Base):
    """佐证材料: a file attached to a yearly target (and optionally to one of its reports)."""

    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_target", "yearly_target_id", "deleted"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("evidence_file.id"))
    yearly_target_id: Mapped[int] = mapped_column(ForeignKey("yearly_target.id"))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("progress_report.id"), nullable=True)
    original_name: Mapped[str] = mapped_column(Text)
    mime: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")

    file: Mapped[EvidenceFile] = relationship()
    target: Mapped[YearlyTarget] = relationship()


class ImportBatch(Base):
    """A returned Excel template that was imported: which file (by content), from whom, what it did."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(Text)
    department: Mapped[str] = mapped_column(String(100))
    period: Mapped[str] = mapped_column(String(16))
    imported_at: Mapped[datetime] = mapped_column(DateTime)
    imported_by: Mapped[str] = mapped_column(String(100))
    summary: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    saved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # the file's own last-saved time


class ClosedPeriod(Base):
    """A reporting period whose reports are locked. Reopening deletes the row and leaves an audit event."""

    __tablename__ = "closed_period"
    __table_args__ = (UniqueConstraint("plan_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"))
    period: Mapped[str] = mapped_column(String(16))
    closed_at: Mapped[datetime] = mapped_column(DateTime)
    closed_by: Mapped[str] = mapped_column(String(100))


class AuditEvent(Base):
    """留痕: who did what, when, with the state before and after."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")


class Setting(Base):
    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict | list | str | float | None] = mapped_column(JSON, nullable=True)


class SupervisionItem(Base):
    """督办事项: one matter chased with one department, from 立项 through 交办 and 反馈 to 办结 (or 继续督办).

    Created from a lagging target (origin "target") or by hand with a reason (origin "manual"). `stage` is the
    kind of its latest step; the steps themselves are never changed or removed."""

    __tablename__ = "supervision_item"
    __table_args__ = (Index("ix_supervision_item_target", "yearly_target_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    yearly_target_id: Mapped[int | None] = mapped_column(ForeignKey("yearly_target.id"), nullable=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    origin: Mapped[str] = mapped_column(String(16))  # target / manual
    reason: Mapped[str] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(String(16))  # 立项 交办 反馈 继续督办 办结
    opened_on: Mapped[date] = mapped_column(Date)
    feedback_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(100))

    department: Mapped[Department] = relationship()
    target: Mapped[YearlyTarget | None] = relationship()
    steps: Mapped[list[SupervisionStep]] = relationship(back_populates="item", order_by="SupervisionStep.id")


class SupervisionStep(Base):
    """One step of a 督办事项, with who recorded it and when."""

    __tablename__ = "supervision_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("supervision_item.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # 立项 交办 反馈 继续督办 办结
    day: Mapped[date] = mapped_column(Date)  # the date the step happened (the notice sent, the answer received)
    at: Mapped[datetime] = mapped_column(DateTime)  # when it was recorded
    actor: Mapped[str] = mapped_column(String(100))
    to_whom: Mapped[str] = mapped_column(Text, default="")  # 交办: the person or office it was sent to
    notice_file: Mapped[str] = mapped_column(Text, default="")  # 交办: the notice's file name
    notice_sha256: Mapped[str] = mapped_column(String(64), default="")
    answer: Mapped[str] = mapped_column(Text, default="")  # 反馈: the department's answer
    evidence_ids: Mapped[list] = mapped_column(JSON, default=list)  # 反馈: evidence attached to the target
    note: Mapped[str] = mapped_column(Text, default="")  # 立项 reason, 办结 / 继续督办 opinion
    feedback_due: Mapped[date | None] = mapped_column(Date, nullable=True)  # 交办 / 继续督办: answer by
    notice_no: Mapped[str] = mapped_column(String(60), default="")  # 交办 with a registered notice: its 文号

    item: Mapped[SupervisionItem] = relationship(back_populates="steps")


class NoticeRecord(Base):
    """发文登记: a 督办通知单 sent and recorded, with its number (督办〔2026〕3号). Numbers run from 1 in each year of
    the notice's date and are never reused; the notice's file name and content hash say which document carried it."""

    __tablename__ = "notice_record"
    __table_args__ = (UniqueConstraint("year", "seq", name="uq_notice_record_year_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(60))  # as printed: prefix〔year〕seq号
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    issued_on: Mapped[date] = mapped_column(Date)
    file_name: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    items: Mapped[int] = mapped_column(Integer, default=0)  # 督办事项 recorded as 交办 with it
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(100))

    department: Mapped[Department] = relationship()


class StoredBlob(Base):
    """Server mode: an evidence content kept in the database (content-addressed), its bytes in blob_chunk rows
    under `upload_id`. On a single PC contents are files in <data>/evidence and this table stays empty."""

    __tablename__ = "stored_blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    upload_id: Mapped[str] = mapped_column(String(32), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    stored_at: Mapped[datetime] = mapped_column(DateTime)


class BlobChunk(Base):
    """One piece (at most 1 MiB) of an uploaded content; a content is stored only once all its chunks are in."""

    __tablename__ = "blob_chunk"

    upload_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class UserAccount(Base):
    """Server mode: an account (登录账户). Roles: 管理员, 督导, 部门填报员 (bound to departments), 只读. Accounts are never
    deleted, only disabled, so every audit entry keeps naming a known account. With no account at all (a single
    PC) the program runs account-free."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)  # server: the server keeps it
    role: Mapped[str] = mapped_column(String(16))
    departments: Mapped[list] = mapped_column(JSON, default=list)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class RowAudit(Base):
    """Server mode: every row a login (not the DBA) inserted, changed or deleted, written by a trigger with the
    login's name (store/server_security.py); nobody but the owner may change it. Empty on a single PC."""

    __tablename__ = "row_audit"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    login: Mapped[str] = mapped_column(String(100))
    tbl: Mapped[str] = mapped_column(String(64))
    op: Mapped[str] = mapped_column(String(8))
    row_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)

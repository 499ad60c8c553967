"""佐证材料: attach files to yearly targets (and reports), list, remove, purge, verify (opening.py opens them, pack.py
exports inspection packs).

Attaching is all-or-nothing: every file is checked first, then copied into the content-addressed store, then
recorded in one transaction. A failure or a cancel on the way removes what this attach stored and records
nothing. The user's own files are only ever read.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qjgb_desktop.domain.validation import clean_text
from qjgb_desktop.services.accounts.access import require
from qjgb_desktop.services.progress.reports import ProgressError
from qjgb_desktop.services.settings.record import load_settings
from qjgb_desktop.store.blobs import BlobStore, Cancelled, clean_evidence_leftovers, evidence_store
from qjgb_desktop.store.models import AuditEvent, Evidence, EvidenceFile, Measure, ProgressReport, YearlyTarget
from qjgb_desktop.store.server_blobs import DatabaseBlobStore

__all__ = ["Cancelled", "EvidenceError", "EvidenceView", "attach", "blob_store", "clean_evidence_leftovers",
           "counts_by_target", "list_evidence", "purge", "remove", "store_for_url", "verify"]


class EvidenceError(ProgressError):
    """A file that cannot be attached, or a request that cannot be done; the message names the file."""


def blob_store(session: Session | None = None) -> BlobStore | DatabaseBlobStore:
    """Where evidence contents live: files in <data>/evidence on a single PC, chunks in the database on a server.
    Decided by the session's database (no query), or without one by the current database URL."""
    if session is not None:
        bind = session.get_bind()
        engine = getattr(bind, "engine", bind)  # a session bound to a connection
        return DatabaseBlobStore(engine) if engine.dialect.name != "sqlite" else evidence_store()
    return store_for_url()


_server_engines: dict = {}


def store_for_url(url: str | None = None) -> BlobStore | DatabaseBlobStore:
    """The evidence store of a database URL (the current one by default); one engine per server URL, made once."""
    from qjgb_desktop import paths

    url = url or paths.database_url()
    if url.startswith("sqlite"):
        return evidence_store()
    engine = _server_engines.get(url)
    if engine is None:
        from qjgb_desktop.store.engine import make_engine

        engine = _server_engines[url] = make_engine(url)
    return DatabaseBlobStore(engine)


def close_store_for_url(url: str) -> None:
    """Close the server store's connections made for `url` (when its database is closed); a later store_for_url
    connects again."""
    engine = _server_engines.pop(url, None)
    if engine is not None:
        engine.dispose()


@dataclass(frozen=True)
class EvidenceView:
    id: int
    target_id: int
    measure_no: int
    year: int
    report_id: int | None
    original_name: str
    mime: str
    size: int
    sha256: str
    description: str
    created_at: datetime
    created_by: str
    deleted: bool
    delete_reason: str
    purged: bool

    def as_json(self) -> dict:
        out = dict(self.__dict__)
        out["created_at"] = self.created_at.isoformat(timespec="seconds")
        return out

    @property
    def is_image(self) -> bool:
        return self.mime.startswith("image/")


def _view(e: Evidence) -> EvidenceView:
    return EvidenceView(e.id, e.yearly_target_id, e.target.measure.no, e.target.year, e.report_id, e.original_name,
                        e.mime, e.file.size, e.file.sha256, e.description, e.created_at, e.created_by, e.deleted,
                        e.delete_reason, e.file.purged_at is not None)


def _audit(session: Session, actor: str, action: str, entity_id: int | None, before, after, reason="") -> None:
    session.add(AuditEvent(at=datetime.now(), actor=actor, action=action, entity="evidence", entity_id=entity_id,
                           before=before, after=after, reason=reason))


def check_files(files: list[Path], max_bytes: int) -> list[tuple[Path, int]]:
    """Every problem with every file, at once: missing, not a file, unreadable, empty, too large."""
    problems, ok = [], []
    for f in files:
        f = Path(f)
        try:
            if not f.exists():
                problems.append(f"“{f}”不存在（可能已被移动或删除）")
                continue
            if not f.is_file():
                problems.append(f"“{f}”不是文件")
                continue
            size = f.stat().st_size
            with open(f, "rb"):
                pass
        except OSError as exc:
            problems.append(f"“{f}”无法读取：{exc.strerror or exc}")
            continue
        if size == 0:
            problems.append(f"“{f.name}”是空文件")
        elif size > max_bytes:
            problems.append(f"“{f.name}”大小 {size / 2**20:.0f} MB，超过上限 {max_bytes / 2**20:.0f} MB")
        else:
            ok.append((f, size))
    if problems:
        raise EvidenceError("未添加任何文件：" + "；".join(problems))
    return ok


Progress = Callable[[int, int, str], None]  # bytes done, bytes total, current file name


def attach(session: Session, target_id: int, files: list[Path], actor: str, note: str = "",
           report_id: int | None = None, progress: Progress | None = None,
           cancelled: Callable[[], bool] | None = None, store: BlobStore | None = None) -> list[EvidenceView]:
    target = session.get(YearlyTarget, target_id)
    if target is None or target.retired:
        raise EvidenceError(f"年度目标 {target_id} 不存在")
    if report_id is not None:
        report = session.get(ProgressReport, report_id)
        if report is None or report.yearly_target_id != target_id:
            raise EvidenceError(f"报告 {report_id} 不属于措施{target.measure.no}·{target.year}年")
    note, actor = clean_text(note).strip(), clean_text(actor, multiline=False).strip()
    require(session, actor, "evidence.attach", target_id=target_id)  # before a single byte is copied
    if len(note) > 2000:
        raise EvidenceError("说明不超过 2000 字")
    max_bytes = int(load_settings(session).max_evidence_mb * 2**20)
    checked = check_files(files, max_bytes)
    store = store or blob_store(session)
    store.clean_leftovers()  # what killed copies left behind (never a copy still running)
    total = sum(size for _, size in checked)
    done = 0
    new_blobs: list[str] = []
    stored: list[tuple[Path, str, int]] = []
    try:
        for path, _size in checked:
            def on_bytes(n: int, name=path.name) -> None:
                nonlocal done
                done += n
                if progress is not None:
                    progress(done, total, name)
            try:
                sha, size, new = store.put(path, on_bytes, cancelled)
            except Cancelled:
                raise
            except OSError as exc:
                raise EvidenceError(f"复制“{path.name}”失败：{exc.strerror or exc}；未添加任何文件") from exc
            if new:
                new_blobs.append(sha)
            stored.append((path, sha, size))
        views = []
        now = datetime.now()
        for path, sha, size in stored:
            name = clean_text(path.name, multiline=False).strip() or "文件"
            blob = session.scalars(select(EvidenceFile).where(EvidenceFile.sha256 == sha)).first()
            if blob is None:
                blob = EvidenceFile(sha256=sha, size=size, stored_at=now)
                session.add(blob)
                session.flush()
            elif blob.purged_at is not None:
                blob.purged_at = None  # the same content is back
            mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
            ev = Evidence(file_id=blob.id, yearly_target_id=target_id, report_id=report_id,
                          original_name=name, mime=mime, description=note, created_at=now,
                          created_by=actor)
            session.add(ev)
            session.flush()
            _audit(session, actor, "evidence.add", ev.id, None,
                   {"name": name, "sha256": sha, "size": size, "target_id": target_id, "report_id": report_id})
            views.append(_view(ev))
        return views
    except BaseException:
        # Nothing half-attached: the caller's transaction rolls back the records, and the contents this
        # attach brought into the store (no record had them before) go again.
        for sha in new_blobs:
            store.remove(sha)
        raise


def _query(include_deleted: bool):
    q = select(Evidence).join(YearlyTarget).join(Measure)
    if not include_deleted:
        q = q.where(Evidence.deleted.is_(False))
    return q.order_by(Measure.no, YearlyTarget.year, Evidence.id.desc())


def list_evidence(session: Session, target_id: int | None = None, measure_no: int | None = None,
                  include_deleted: bool = False) -> list[EvidenceView]:
    q = _query(include_deleted)
    if target_id is not None:
        q = q.where(Evidence.yearly_target_id == target_id)
    if measure_no is not None:
        q = q.where(Measure.no == measure_no)
    return [_view(e) for e in session.scalars(q)]


def counts_by_target(session: Session) -> dict[int, int]:
    rows = session.execute(select(Evidence.yearly_target_id, func.count()).where(Evidence.deleted.is_(False))
                           .group_by(Evidence.yearly_target_id))
    return {tid: n for tid, n in rows}


def remove(session: Session, evidence_id: int, reason: str, actor: str) -> None:
    ev = session.get(Evidence, evidence_id)
    if ev is None or ev.deleted:
        raise EvidenceError(f"佐证材料 {evidence_id} 不存在或已移除")
    reason, actor = clean_text(reason), clean_text(actor, multiline=False).strip()
    require(session, actor, "evidence.remove", target_id=ev.yearly_target_id)
    if not reason.strip():
        raise EvidenceError("移除佐证材料须写明原因")
    ev.deleted, ev.deleted_at, ev.deleted_by, ev.delete_reason = True, datetime.now(), actor, reason.strip()
    _audit(session, actor, "evidence.remove", ev.id, {"name": ev.original_name, "sha256": ev.file.sha256}, None,
           reason.strip())
    session.flush()


def purge(session: Session, actor: str, store: BlobStore | None = None) -> list[str]:
    """Administrator: delete stored contents that no attachment uses any more (all removed, or none at all),
    and leftovers of interrupted copies. Records stay, marked purged. Returns the hashes deleted."""
    actor = clean_text(actor, multiline=False).strip()
    if require(session, actor, "evidence.purge") is None and actor not in load_settings(session).admins:
        raise EvidenceError("只有管理员可以清理已移除的佐证文件")
    store = store or blob_store(session)
    used = set(session.scalars(select(EvidenceFile.sha256).join(Evidence, Evidence.file_id == EvidenceFile.id)
                               .where(Evidence.deleted.is_(False))))
    gone = []
    now = datetime.now()
    for sha in list(store.stored()):
        if sha not in used:
            store.remove(sha)
            gone.append(sha)
    for blob in session.scalars(select(EvidenceFile).where(EvidenceFile.sha256.in_(gone))):
        blob.purged_at = now
    store.clean_leftovers()
    session.add(AuditEvent(at=now, actor=actor, action="evidence.purge", entity="evidence_file", entity_id=None,
                           before=None, after={"deleted": gone}))
    session.flush()
    return gone


@dataclass
class VerifyReport:
    checked: int = 0
    missing: list[str] = field(default_factory=list)  # recorded, file gone
    corrupt: list[str] = field(default_factory=list)  # file there, content changed
    orphaned: list[str] = field(default_factory=list)  # file there, no record, content not matching its name
    unrecorded: list[str] = field(default_factory=list)  # intact file, no record: an interrupted attach (not damage)
    # Not damage: temporary files of interrupted copies. Swept by verify itself; what stays is younger than
    # the sweep's age limit (a copy may be running right now) and goes at a later sweep.
    leftovers_cleaned: int = 0
    leftover_bytes_cleaned: int = 0
    leftovers: list[str] = field(default_factory=list)  # still there after the sweep

    @property
    def ok(self) -> bool:
        """No damage: nothing missing, changed or unrecorded. Leftover temporary files do not count."""
        return not (self.missing or self.corrupt or self.orphaned)


def verify(session: Session, store: BlobStore | None = None, progress: Callable[[int, int], None] | None = None
           ) -> VerifyReport:
    """Re-hash every stored file against its record; sweep leftovers of interrupted copies on the way."""
    store = store or blob_store(session)
    report = VerifyReport()
    report.leftovers_cleaned, report.leftover_bytes_cleaned = store.clean_leftovers()
    records = {b.sha256: b for b in session.scalars(select(EvidenceFile).where(EvidenceFile.purged_at.is_(None)))}
    names = {b.sha256: n for b, n in session.execute(
        select(EvidenceFile, func.min(Evidence.original_name)).join(Evidence, Evidence.file_id == EvidenceFile.id)
        .group_by(EvidenceFile.id))}
    for i, (sha, _blob) in enumerate(sorted(records.items()), 1):
        label = f"{names.get(sha, '?')}（{sha[:12]}…）"
        if not store.has(sha):
            report.missing.append(label)
        elif store.hash_of(sha) != sha:
            report.corrupt.append(label)
        report.checked += 1
        if progress is not None:
            progress(i, len(records))
    # A complete, intact file with no record is what an attach killed between storing the file and committing its
    # record leaves (or a restore of an older database): not damage, purge removes it. One whose content does not
    # match its name is damage.
    for sha in store.stored():
        if sha not in records:
            (report.unrecorded if store.hash_of(sha) == sha else report.orphaned).append(sha)
    report.leftovers = [getattr(p, "name", p) for p in store.leftovers()]  # file names, or upload ids on a server
    return report

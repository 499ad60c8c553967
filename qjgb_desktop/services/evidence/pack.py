"""迎检材料: the evidence of a 改革任务, a 措施 or a department, copied to a folder or a .zip as 任务/措施/年份/文件,
with 清单.csv listing each file's path, SHA-256, size and description.
"""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from qjgb_desktop.domain.validation import clean_text
from qjgb_desktop.services.evidence.records import EvidenceError, Progress, _query, blob_store
from qjgb_desktop.store.blobs import BlobStore, Cancelled
from qjgb_desktop.store.files import safe_file_name
from qjgb_desktop.store.models import Action, Department, Measure, MeasureDepartment

# A cell a spreadsheet would read as a formula (OWASP "CSV injection"): = + - @ first, or tab/CR first. The
# full-width forms are included because some East Asian spreadsheet builds normalise them; it costs nothing.
_FORMULA_STARTS = tuple("=+-@＝＋－＠")


def csv_cell(value):
    """One cell of a CSV we write: text cleaned (clean_text) and, when a spreadsheet would take it as a formula,
    prefixed with an apostrophe, as the xlsx exports do with quotePrefix. Numbers stay numbers."""
    if not isinstance(value, str):
        return value
    text = clean_text(value)
    # After cleaning, a tab is a space and CR a line break; a formula could still hide behind either.
    if value.startswith(("\t", "\r")) or text.lstrip(" \n").startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def _scope_query(session: Session, measure_no: int | None, action_no: int | None, department: str | None):
    q = _query(False)
    if measure_no is not None:
        q = q.where(Measure.no == measure_no)
    if action_no is not None:
        q = q.join(Action, Action.id == Measure.action_id).where(Action.no == action_no)
    if department is not None:
        dep = session.scalar(select(Department.id).where(Department.name == department))
        if dep is None:
            raise EvidenceError(f"没有部门“{department}”")
        q = q.where(Measure.id.in_(select(MeasureDepartment.measure_id).where(MeasureDepartment.department_id == dep)))
    return q


def export_pack(session: Session, out: Path, measure_no: int | None = None, action_no: int | None = None,
                department: str | None = None, progress: Progress | None = None,
                cancelled: Callable[[], bool] | None = None, store: BlobStore | None = None) -> int:
    """Copy the evidence of a measure, an action or a department to a folder or a .zip, arranged as
    任务/措施/年份/文件, with 清单.csv listing each file's path, sha256, size and description."""
    store = store or blob_store(session)
    items = list(session.scalars(_scope_query(session, measure_no, action_no, department)))
    if not items:
        raise EvidenceError("所选范围内没有佐证材料")
    out = Path(out)
    as_zip = out.suffix.lower() == ".zip"
    if out.exists() and (as_zip or any(out.iterdir())):
        raise EvidenceError(f"“{out}”已存在且不为空，请选择新的文件夹或文件名")
    rows, used = [], set()
    total = sum(e.file.size for e in items)
    done = 0
    partial = out.with_name(out.name + ".part")
    try:
        archive = zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) if as_zip else None
        try:
            for e in items:
                if cancelled is not None and cancelled():
                    raise Cancelled()
                m = e.target.measure
                folder = (safe_file_name(f"{m.action.numeral}、{m.action.title}"),
                          safe_file_name(f"{m.no:02d}.{m.title}"), f"{e.target.year}年")
                name = safe_file_name(e.original_name)
                rel = "/".join((*folder, name))
                n = 2
                while rel in used:  # two attachments with one name: keep both
                    stem, dot, ext = name.rpartition(".")
                    rel = "/".join((*folder, f"{stem}({n}).{ext}" if dot else f"{name}({n})"))
                    n += 1
                used.add(rel)
                if not store.has(e.file.sha256):
                    raise EvidenceError(f"“{e.original_name}”的存储文件缺失，请先运行 qjgb verify 检查")
                with store.open(e.file.sha256) as src:
                    if archive is not None:
                        info = zipfile.ZipInfo(rel, date_time=e.created_at.timetuple()[:6])
                        info.compress_type, info.file_size = zipfile.ZIP_DEFLATED, e.file.size
                        info.external_attr = 0o644 << 16  # rw-r--r-- when unpacked
                        with archive.open(info, "w", force_zip64=e.file.size > 2**31) as dst:
                            shutil.copyfileobj(src, dst, 4 * 2**20)
                    else:
                        target = partial.joinpath(*rel.split("/"))
                        target.parent.mkdir(parents=True, exist_ok=True)
                        with open(target, "wb") as dst:
                            shutil.copyfileobj(src, dst, 4 * 2**20)
                done += e.file.size
                if progress is not None:
                    progress(done, total, e.original_name)
                rows.append([rel, e.file.sha256, e.file.size, e.original_name, e.description,
                             f"措施{m.no}·{e.target.year}年", e.created_by, e.created_at.isoformat(timespec="seconds")])
            manifest = io.StringIO()
            writer = csv.writer(manifest)
            writer.writerow(["路径", "SHA-256", "大小（字节）", "原文件名", "说明", "所属目标", "上传人", "上传时间"])
            writer.writerows([csv_cell(v) for v in row] for row in rows)
            data = ("\ufeff" + manifest.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8
            if archive is not None:
                archive.writestr("清单.csv", data)
            else:
                (partial / "清单.csv").write_bytes(data)
        finally:
            if archive is not None:
                archive.close()
        if not as_zip and out.is_dir():
            out.rmdir()  # an empty folder the user chose
        partial.replace(out)
    except BaseException:
        if partial.is_dir():
            shutil.rmtree(partial, ignore_errors=True)
        else:
            partial.unlink(missing_ok=True)
        raise
    return len(rows)

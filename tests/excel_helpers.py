"""Filling a fill-in template as a department would, and counting what an import wrote: shared by the Excel tests,
the window's import test, the race and kill tests (tests/kill_worker.py runs outside pytest)."""

import re
import zipfile
from datetime import datetime, timezone

from openpyxl import load_workbook
from sqlalchemy import func, select

from qjgb_desktop.store.models import IndicatorValue, ProgressReport


def fill(path, out, rows=None, indicators=None, edit=None):
    wb = load_workbook(path)
    ws = wb["填报"]
    for r, values in (rows or {}).items():
        for col, v in zip("FGHIJK", values):
            ws[f"{col}{r}"] = v
    for r, v in (indicators or {}).items():
        wb["指标"][f"F{r}"] = v
    if edit:
        edit(wb)
    wb.save(out)
    return out


def row_of(path, measure_no):
    ws = load_workbook(path)["填报"]
    return next(r for r in range(4, ws.max_row + 1) if str(ws[f"B{r}"].value).startswith(f"{measure_no}."))


def counts(db):
    with db.sessions() as s:
        return (s.scalar(select(func.count()).select_from(ProgressReport)),
                s.scalar(select(func.count()).select_from(IndicatorValue)))


def saved_at(path, moment: datetime):
    """Set a workbook's own last-saved time (docProps/core.xml dcterms:modified, in UTC) as Excel would on saving."""
    with zipfile.ZipFile(path) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    utc = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    parts["docProps/core.xml"] = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                                        rb"\g<1>" + utc.encode() + rb"\g<2>", parts["docProps/core.xml"])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path

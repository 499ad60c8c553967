"""Real office programs for the tests: LibreOffice (headless) and Gnumeric's ssconvert, plus pdftotext.

tools/setup.sh installs them in test mode (Debian packages libreoffice-calc-nogui, gnumeric,
poppler-utils and python3-uno), so CI has them. Nothing here skips: a missing program raises a RuntimeError that says
what to install, so a test that needs it fails instead of passing silently.

    pdf = convert(xlsx, "pdf", tmp_path)          # one file, one soffice start
    assert pdf_pages(pdf) == 1
    outs = convert_many([a, b], "xlsx", tmp_path)  # several files, one soffice start (faster)
    assert squash(cell_text) in squash(pdf_text(pdf))

Things LibreOffice 7.4 (Debian 12) does that tests should expect:
- A text taller than its row: LibreOffice draws the lines cut by the row's bottom edge (and a line or two
  past it) clipped, and pdftotext returns them whole; the rest of a much taller text is not in the PDF at all.
  So a text found in the PDF may still be partly invisible: row_heights / measure_heights tell.
- Rows without an explicit height may be printed one line high: LibreOffice re-measures an xlsx's rows only
  in some cases.
- Re-saving xlsx: a veryHidden sheet comes back only "hidden"; freeze panes are lost (headless has no
  view); row heights are rounded (80 -> 79.5); cells whose text is Chinese get the font
  "Noto Sans CJK SC" instead of the workbook's font (Calibri is not installed).
- Optimal row height (row_heights) counts the text of hidden columns too, ignores cells merged over several
  rows, and measures with the fonts installed here (Calibri falls back to DejaVu Sans, Chinese to Noto Sans CJK).

Row heights against LibreOffice's own layout (python3-uno, for /usr/bin/python3):

    for sheet, rows in row_heights(xlsx).items():
        too_short = [(r, ours, best) for r, ours, best in rows if ours < best - 1]
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import NamedTuple

# --convert-to arguments: "extension:filter name" (the filter picks the real file format).
FILTERS = {
    "xlsx": "xlsx:Calc MS Excel 2007 XML",
    "ods": "ods:calc8",
    "xls": "xls:MS Excel 97",
    "pdf": "pdf:calc_pdf_Export",
}

_INSTALL_HINT = "run `bash tools/setup.sh test` once, or apt-get install {pkg}"


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def soffice_available() -> bool:
    return _soffice() is not None


def ssconvert_available() -> bool:
    return shutil.which("ssconvert") is not None


def _require(program: str | None, name: str, pkg: str) -> str:
    if program is None:
        raise RuntimeError(f"{name} is not installed: {_INSTALL_HINT.format(pkg=pkg)}")
    return program


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _run(cmd: list[str], timeout: float, env: dict[str, str] | None = None,
         input_text: str | None = None) -> subprocess.CompletedProcess:
    """Run cmd in its own process group, so that a timeout also ends the children (soffice.bin)."""
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL if input_text is None else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(input_text, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        raise RuntimeError(
            f"timed out after {timeout} s: {cmd}\n--- stdout ---\n{out}\n--- stderr ---\n{err}"
        ) from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _target(fmt: str) -> tuple[str, str]:
    """(--convert-to argument, output extension) for "xlsx", "ods", "xls", "pdf" or "ext:Filter name"."""
    arg = FILTERS.get(fmt, fmt)
    return arg, arg.split(":", 1)[0]


def convert_many(srcs: Iterable[Path], fmt: str, outdir: Path, timeout: float = 180) -> list[Path]:
    """Convert files with one headless LibreOffice start; returns the output paths in srcs' order.

    fmt: "xlsx" (Excel 2007-365), "ods", "xls" (Excel 97-2003), "pdf", or a raw "ext:Filter name".
    Each call uses a throwaway user profile: parallel runs and root work, no first-start dialogs, and a
    LibreOffice the user has open is left alone.
    """
    soffice = _require(_soffice(), "LibreOffice (soffice)", "libreoffice-calc-nogui")
    srcs = [Path(s).resolve() for s in srcs]
    if not srcs:
        return []
    arg, ext = _target(fmt)
    outdir = Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    outs = [outdir / f"{s.stem}.{ext}" for s in srcs]
    if len(set(outs)) != len(outs):
        raise ValueError(f"sources with the same name would overwrite each other in {outdir}: {srcs}")
    for src, out in zip(srcs, outs):
        if not src.is_file():
            raise FileNotFoundError(src)
        if out == src:
            raise ValueError(f"{src} would be overwritten by its own conversion: use another outdir")
        out.unlink(missing_ok=True)  # so a stale file cannot pass for a result
    with tempfile.TemporaryDirectory(prefix="qjgb-soffice-") as profile:
        cmd = [
            soffice,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--nologo",
            "--nolockcheck",
            "--convert-to",
            arg,
            "--outdir",
            str(outdir),
            *map(str, srcs),
        ]
        env = dict(os.environ)
        env.pop("DISPLAY", None)  # stay headless even under Xvfb or a desktop
        env.pop("WAYLAND_DISPLAY", None)
        result = _run(cmd, timeout, env)
    missing = [o for o in outs if not o.is_file() or o.stat().st_size == 0]
    if result.returncode != 0 or missing:
        raise RuntimeError(
            f"soffice failed (exit {result.returncode}), missing output {missing}: {cmd}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
        )
    return outs


def convert(src: Path, fmt: str, outdir: Path, timeout: float = 180) -> Path:
    """Convert one file with headless LibreOffice (see convert_many); returns the output path."""
    return convert_many([src], fmt, outdir, timeout)[0]


def ssconvert(src: Path, dst: Path, timeout: float = 120, exporter: str | None = None) -> Path:
    """Convert with Gnumeric's ssconvert (a second, independent reader/writer); format from dst's suffix.

    exporter: e.g. "Gnumeric_Excel:xlsx2" (Excel 2010) or "Gnumeric_OpenCalc:odf"; by default
    ssconvert picks one from the suffix (.xlsx: Excel 2007). Note: Gnumeric writes xlsx without a
    default cell style, so openpyxl warns "Workbook contains no default style" when it loads the result
    (an error under this project's filterwarnings); hidden sheet states, list validations and print
    titles do not survive Gnumeric's round trip.
    """
    program = _require(shutil.which("ssconvert"), "Gnumeric (ssconvert)", "gnumeric")
    src, dst = Path(src).resolve(), Path(dst).resolve()
    if not src.is_file():
        raise FileNotFoundError(src)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.unlink(missing_ok=True)
    cmd = [program]
    if exporter:
        cmd += ["-T", exporter]
    cmd += [str(src), str(dst)]
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    result = _run(cmd, timeout, env)
    if result.returncode != 0 or not dst.is_file() or dst.stat().st_size == 0:
        raise RuntimeError(
            f"ssconvert failed (exit {result.returncode}): {cmd}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
        )
    return dst


def pdf_text(pdf: Path, mode: str = "raw") -> str:
    """The text of a PDF by pdftotext (poppler-utils).

    mode "raw" (default) keeps the drawing order, so a wrapped cell's lines stay together even when a
    neighbouring cell's text sits on the same line; "layout" keeps the page's physical layout; "plain"
    is pdftotext's default reading order.
    """
    program = _require(shutil.which("pdftotext"), "pdftotext", "poppler-utils")
    flags = {"raw": ["-raw"], "layout": ["-layout"], "plain": []}[mode]
    cmd = [program, "-enc", "UTF-8", *flags, str(pdf), "-"]
    result = _run(cmd, 60)
    if result.returncode != 0:
        raise RuntimeError(f"pdftotext failed (exit {result.returncode}): {cmd}\n{result.stderr}")
    return result.stdout


def pdf_pages(pdf: Path) -> int:
    """The number of pages of a PDF (pdfinfo, poppler-utils)."""
    program = _require(shutil.which("pdfinfo"), "pdfinfo", "poppler-utils")
    result = _run([program, str(pdf)], 60)
    found = re.search(r"^Pages:\s+(\d+)", result.stdout, re.M)
    if result.returncode != 0 or not found:
        raise RuntimeError(f"pdfinfo failed (exit {result.returncode}) on {pdf}\n{result.stdout}\n{result.stderr}")
    return int(found.group(1))


def squash(text: str) -> str:
    """text without any whitespace, to compare wrapped PDF text with a cell's text."""
    return re.sub(r"\s+", "", text)


# -- row heights, measured by LibreOffice itself (UNO) -------------------------------------------------------------

class RowHeight(NamedTuple):
    row: int  # 1-based, as in Excel and openpyxl
    ours: float  # pt: the height LibreOffice has for the row after loading the file (the file's, rounded)
    optimal: float  # pt: LibreOffice's optimal height for the row (what "Optimal Row Height" would set)


class MergedHeight(NamedTuple):
    """A cell merged over several rows: LibreOffice's optimal row height ignores it, so it is measured apart."""
    first_row: int  # 1-based
    last_row: int
    column: int  # 1-based, the merged cell's first column
    ours: float  # pt: the loaded heights of its visible rows, added up
    needed: float  # pt: LibreOffice's optimal height for its text alone, in one row as wide as the merged cell


class Heights(NamedTuple):
    rows: dict[str, list[RowHeight]]
    merged: dict[str, list[MergedHeight]]


# Run by /usr/bin/python3 (Debian's python3-uno), never by the venv: argv = UNO url, then the files; stdin the
# seconds to wait for LibreOffice to accept the connection. For each file and sheet: every used, visible row's
# Height; the cells merged over several rows; then sheet and document protection are lifted, the contents of hidden
# columns cleared (they do not print, but LibreOffice's optimal height would count them), OptimalHeight set on all
# used rows at once and each row's Height read again. Each vertically merged cell is copied onto a scratch sheet,
# unmerged there into one cell of the merged width, and measured the same way. The document is never saved.
# Heights are in 1/100 mm. Prints {"file": {"sheet": {"rows": [[row, ours, optimal]], "merged": [[r1, r2, col,
# ours, needed]]}}} or {"error": ...} as JSON.
_UNO_SCRIPT = r"""
import json, os, sys, time, traceback
import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException
from com.sun.star.table import CellAddress

url, files = sys.argv[1], sys.argv[2:]
local = uno.getComponentContext()
resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
deadline = time.monotonic() + float(sys.stdin.readline() or 60)
while True:
    try:
        ctx = resolver.resolve(url)
        break
    except NoConnectException:
        if time.monotonic() > deadline:
            print(json.dumps({"error": "soffice did not accept a UNO connection at " + url}), flush=True)
            os._exit(3)
        time.sleep(0.05)
desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


CONTENTS = 1 | 2 | 4 | 16  # VALUE | DATETIME | STRING | FORMULA (formats stay)
EVERYTHING = 1023
SCRATCH = "qjgb-row-heights-scratch"


def unprotect(thing, what):
    if thing.isProtected():
        thing.unprotect("")
    if thing.isProtected():
        raise RuntimeError(what + " is protected with a password")


# Merged areas over several rows. A range's getIsMerged says whether a merged area starts in it, so each column
# is halved down to the cells where one starts: few calls over the bridge, which are slow (~0.3 ms each).
def vertical_merges(sheet, last_row, last_col):
    found = []

    def search(c, r1, r2):
        if not sheet.getCellRangeByPosition(c, r1, c, r2).getIsMerged():
            return
        if r1 < r2:
            mid = (r1 + r2) // 2
            search(c, r1, mid)
            search(c, mid + 1, r2)
            return
        cursor = sheet.createCursorByRange(sheet.getCellRangeByPosition(c, r1, c, r1))
        cursor.collapseToMergedArea()
        a = cursor.RangeAddress
        if a.EndRow > a.StartRow and a.StartRow == r1 and a.StartColumn == c:
            found.append(a)

    for c in range(last_col + 1):
        search(c, 0, last_row)
    return found


def measure(doc, path):
    unprotect(doc, path)  # the workbook structure: a scratch sheet is inserted
    sheets, merged_areas = {}, {}
    for sheet in list(doc.Sheets):
        if not sheet.IsVisible:  # a hidden sheet does not print
            continue
        cursor = sheet.createCursor()
        cursor.gotoEndOfUsedArea(False)
        last_row, last_col = cursor.RangeAddress.EndRow, cursor.RangeAddress.EndColumn
        unprotect(sheet, "sheet %s of %s" % (sheet.Name, path))
        areas = vertical_merges(sheet, last_row, last_col)
        last_row = max([last_row] + [a.EndRow for a in areas])  # a merged cell may reach below the last text
        rows = sheet.Rows
        visible = [i for i in range(last_row + 1) if rows.getByIndex(i).IsVisible]
        ours = {i: rows.getByIndex(i).Height for i in visible}
        merged_areas[sheet.Name] = (sheet, areas, ours)
        for c in range(last_col + 1):
            if not sheet.Columns.getByIndex(c).IsVisible:
                sheet.getCellRangeByPosition(c, 0, c, last_row).clearContents(CONTENTS)
        sheet.getCellRangeByPosition(0, 0, last_col, last_row).Rows.OptimalHeight = True
        sheets[sheet.Name] = {"rows": [[i + 1, ours[i], rows.getByIndex(i).Height] for i in visible], "merged": []}
    if any(areas for _, areas, _ in merged_areas.values()):
        doc.Sheets.insertNewByName(SCRATCH, doc.Sheets.Count)
        scratch = doc.Sheets.getByName(SCRATCH)
        index = doc.Sheets.Count - 1
        for name, (sheet, areas, ours) in merged_areas.items():
            for a in areas:
                columns, height = a.EndColumn - a.StartColumn + 1, a.EndRow - a.StartRow + 1
                scratch.copyRange(CellAddress(index, 0, 0), a)
                block = scratch.getCellRangeByPosition(0, 0, columns - 1, height - 1)
                block.merge(False)
                scratch.Columns.getByIndex(0).Width = sum(
                    sheet.Columns.getByIndex(c).Width for c in range(a.StartColumn, a.EndColumn + 1)
                    if sheet.Columns.getByIndex(c).IsVisible)
                scratch.getCellRangeByPosition(0, 0, 0, 0).Rows.OptimalHeight = True
                needed = scratch.Rows.getByIndex(0).Height
                block.clearContents(EVERYTHING)
                sheets[name]["merged"].append([a.StartRow + 1, a.EndRow + 1, a.StartColumn + 1,
                                               sum(ours.get(r, 0) for r in range(a.StartRow, a.EndRow + 1)), needed])
    return sheets


# The answer is written and flushed before LibreOffice is ended, and the script then leaves with os._exit: once
# soffice is gone, Python's own shutdown tears down the UNO bridge and pyuno crashes there now and then (SIGSEGV,
# about 1 run in 20), after a complete answer.
out, code = {}, 0
try:
    for path in files:
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0, (prop("Hidden", True),))
        if doc is None:
            raise RuntimeError("LibreOffice could not open " + path)
        try:
            out[path] = measure(doc, path)
        finally:
            doc.close(True)
except Exception:
    out, code = {"error": traceback.format_exc()}, 4
sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
sys.stdout.flush()
try:
    desktop.terminate()
except Exception:
    pass
os._exit(code)
"""


@cache
def _uno_python() -> str:
    """A Python that can `import uno`: Debian's python3-uno is for /usr/bin/python3 (the venv cannot import it)."""
    candidates = [os.environ.get("QJGB_UNO_PYTHON"), "/usr/bin/python3"]
    soffice = _soffice()
    if soffice:  # LibreOffice's own builds (libreoffice.org, /opt/libreoffice*) bring their Python
        candidates.append(str(Path(os.path.realpath(soffice)).parent / "python"))
    for python in filter(None, candidates):
        if not Path(python).is_file():
            continue
        probe = subprocess.run([python, "-c", "import uno"], stdin=subprocess.DEVNULL, capture_output=True,
                               env=_plain_env(), timeout=60)
        if probe.returncode == 0:
            return python
    raise RuntimeError(f"no Python with LibreOffice's UNO bridge (tried {[c for c in candidates if c]}): "
                       + _INSTALL_HINT.format(pkg="python3-uno"))


def _plain_env() -> dict[str, str]:
    """The environment for soffice and the UNO Python: headless, and without the venv's Python settings."""
    env = dict(os.environ)
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(var, None)
    return env


def _pt(hundredth_mm: int) -> float:
    return round(hundredth_mm * 72 / 2540, 2)


def measure_heights(xlsxs: Iterable[Path], timeout: float = 180) -> list[Heights]:
    """Row heights (see row_heights) and vertically merged cells' heights of several files with one LibreOffice
    start; results in the files' order."""
    soffice = _require(_soffice(), "LibreOffice (soffice)", "libreoffice-calc-nogui")
    files = [Path(f).resolve() for f in xlsxs]
    for f in files:
        if not f.is_file():
            raise FileNotFoundError(f)
    if not files:
        return []
    python = _uno_python()
    env = _plain_env()
    # a named pipe rather than a TCP port: local only, and no port to collide with a parallel run
    pipe = f"pipe,name=qjgb-{os.getpid()}-{secrets.token_hex(6)};urp;"
    url = f"uno:{pipe}StarOffice.ComponentContext"
    with tempfile.TemporaryDirectory(prefix="qjgb-soffice-") as work:
        profile, log = Path(work) / "profile", Path(work) / "soffice.log"
        script = Path(work) / "row_heights.py"
        script.write_text(_UNO_SCRIPT, encoding="utf-8")
        with log.open("wb") as log_file:
            office = subprocess.Popen(
                [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible", "--norestore",
                 "--nologo", "--nolockcheck", "--nodefault", f"--accept={pipe}"],
                stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            proc = _run([python, str(script), url, *map(str, files)], timeout, env,
                        input_text=f"{min(timeout, 60)}\n")
            out, err = proc.stdout, proc.stderr
            try:
                office.wait(timeout=15)  # the script ends LibreOffice (desktop.terminate)
            except subprocess.TimeoutExpired:
                pass
        finally:
            if office.poll() is None:
                _kill_group(office)
            office.wait()
            office_log = log.read_text(encoding="utf-8", errors="replace")
    try:
        data = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    except ValueError:
        data = {}
    if proc.returncode != 0 or "error" in data or any(str(f) not in data for f in files):
        raise RuntimeError(f"row heights: LibreOffice failed (exit {proc.returncode}): {data.get('error', '')}\n"
                           f"--- stdout ---\n{out}\n--- stderr ---\n{err}\n--- soffice ---\n{office_log}")
    results = []
    for f in files:
        sheets = data[str(f)]
        results.append(Heights(
            {name: [RowHeight(r, _pt(ours), _pt(best)) for r, ours, best in sheet["rows"]]
             for name, sheet in sheets.items()},
            {name: [MergedHeight(r1, r2, c, _pt(ours), _pt(need)) for r1, r2, c, ours, need in sheet["merged"]]
             for name, sheet in sheets.items()}))
    return results


def row_heights_many(xlsxs: Iterable[Path], timeout: float = 180) -> list[dict[str, list[RowHeight]]]:
    """row_heights of several files with one LibreOffice start; results in the files' order."""
    return [h.rows for h in measure_heights(xlsxs, timeout)]


def row_heights(xlsx: Path, timeout: float = 180) -> dict[str, list[RowHeight]]:
    """Each sheet's used, visible rows as (row, our height, LibreOffice's optimal height), in pt.

    "ours" is the height LibreOffice gives the row after loading the file: the file's own height (rounded to
    LibreOffice's units) where the file sets one, else what LibreOffice made of it when loading. "optimal" is what
    LibreOffice's Optimal Row Height sets, with the fonts installed here, counting only visible columns (hidden
    columns' contents are cleared first: they do not print, yet LibreOffice would count them). A cell merged over
    several rows adds nothing to its rows' optimal heights (LibreOffice ignores it): measure_heights measures those
    cells apart. Hidden rows and hidden sheets are left out (they do not print). One headless LibreOffice start.
    """
    return measure_heights([xlsx], timeout)[0].rows

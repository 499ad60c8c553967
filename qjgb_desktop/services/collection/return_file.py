"""Opening a returned workbook safely: what kind of file it is, within fixed bounds, values read once.

A return is a few dozen rows. Whatever arrives (an .ods, an old .xls, a CSV renamed .xlsx, a zip bomb, a cell at
XFD1048576, a 2 GB XML comment, 20,000 pasted rows) is answered within seconds and a fixed memory bound, with a
Chinese message that says what to do; a library's own English message never reaches the user. Only the rows and
columns a template can have are read (openpyxl's read-only mode stops at the last row asked for).
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

MAX_FILE_BYTES = 50 * 1024 * 1024
# Inflated sizes. A real return's largest part is well under 1 MB (20 targets × 3 texts × 5,000 characters is
# about 1 MB); the XML parser and openpyxl slow down more than linearly on hostile parts of a few tens of MB.
MAX_PART_BYTES = 4 * 1024 * 1024
MAX_PARTS_BYTES = 24 * 1024 * 1024
MAX_WORKBOOK_XML = 20 * 1024  # the sheet list and names: a few KB; openpyxl is quadratic on floods of them
MAX_PARTS = 400
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SAVE_AS_XLSX = "请用 Excel、WPS 或 LibreOffice 打开它，选择“文件 → 另存为”，文件类型选“Excel 工作簿 (*.xlsx)”，保存后再导入该 .xlsx 文件。"


class ReturnFileError(Exception):
    """The file as a whole cannot be read; the message is for the user (Chinese, says what to do)."""


@dataclass
class SheetData:
    title: str
    rows: dict[int, list] = field(default_factory=dict)  # row number → cells (openpyxl read-only cells)
    merged: list[str] = field(default_factory=list)
    overflow: bool = False  # data beyond the rows a template can have


@dataclass
class ReturnBook:
    sheetnames: list[str]
    sheets: dict[str, SheetData]
    saved_at: datetime | None = None  # the workbook's own last-saved time (docProps/core.xml dcterms:modified)


def sniff(data: bytes) -> None:
    """Refuse what is not an Excel 2007+ workbook, naming what it is and how to convert it."""
    if data.startswith(OLE2_MAGIC):
        raise ReturnFileError("是旧版 Excel 97-2003（.xls）或 WPS（.et）格式，或是设置了打开密码的工作簿，无法导入。"
                              "如有打开密码请先取消密码；" + SAVE_AS_XLSX)
    if not data.startswith(b"PK"):
        head = data[:512].lstrip().lower()
        kind = "网页（HTML）" if head.startswith((b"<!doctype html", b"<html", b"<?xml")) else "文本或 CSV"
        raise ReturnFileError(f"不是 Excel 工作簿（像是{kind}文件，或文件已损坏）。" + SAVE_AS_XLSX)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):  # e.g. "zip file version 14.8"
        raise ReturnFileError("不是完整的 .xlsx 文件（文件已损坏或没有传完整）。请部门重新发送原文件。") from None
    if "mimetype" in names:
        try:
            mimetype = zf.read("mimetype")[:100]
        except Exception:
            mimetype = b""
        if b"opendocument.spreadsheet" in mimetype:
            raise ReturnFileError("是 OpenDocument 表格（.ods，LibreOffice 的默认格式），无法导入。" + SAVE_AS_XLSX)
        raise ReturnFileError("是 OpenDocument 文件（.odt/.odp 等），不是 Excel 工作簿。")
    if "xl/workbook.bin" in names:
        raise ReturnFileError("是 Excel 二进制工作簿（.xlsb），无法导入。" + SAVE_AS_XLSX)
    if "word/document.xml" in names:
        raise ReturnFileError("是 Word 文档，不是 Excel 工作簿。请交回下发的 Excel 模板。")
    if "xl/workbook.xml" not in names:
        raise ReturnFileError("不是 Excel 工作簿（压缩包中没有工作簿内容）。请交回下发的 Excel 模板。")
    infos = zf.infolist()
    if len(infos) > MAX_PARTS:
        raise ReturnFileError(f"包含 {len(infos)} 个部件，远超填报模板应有的数量，疑似不是模板或已损坏，未读取。")
    # every part counts: a part renamed from .xml is parsed all the same
    if any(i.file_size > MAX_PART_BYTES for i in infos) or sum(i.file_size for i in infos) > MAX_PARTS_BYTES \
            or zf.getinfo("xl/workbook.xml").file_size > MAX_WORKBOOK_XML:
        raise ReturnFileError("解压后的内容异常庞大（可能被插入了大图片、大量空白或无用数据），为保护本机未读取。"
                              "请删除插入的图片等内容，或使用下发的模板重新填写后交回。")


def _merged_refs(zf: zipfile.ZipFile, part: str) -> list[str]:
    """mergeCell references of one sheet part (read-only mode does not give them)."""
    try:
        xml = zf.read(part)
    except KeyError:
        return []
    return [m.decode("ascii", "replace") for m in re.findall(rb"<(?:\w+:)?mergeCell\s[^<>]*?ref=\"([^\"<>]+)\"", xml)]


def open_return(path: Path, wanted: dict[str, tuple[int, int]]) -> tuple[bytes, ReturnBook]:
    """Read the file's bytes and, of each wanted sheet, rows 1..max_row and columns 1..max_col.

    `wanted` maps a sheet name to (max_row, max_col). Returns the bytes (for the file's hash) and the data."""
    path = Path(path)
    if not path.is_file():
        raise ReturnFileError("文件不存在")
    size = path.stat().st_size
    if size == 0:
        raise ReturnFileError("是空文件")
    if size > MAX_FILE_BYTES:
        raise ReturnFileError(f"文件过大（{size / 1048576:.0f} MB）；填报模板通常小于 1 MB，请确认交回的是下发的模板。")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReturnFileError(f"无法读取文件：{exc.strerror or '系统拒绝访问'}") from None
    sniff(data)
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():  # other programs' styles make openpyxl warn; the values are what count
            warnings.simplefilter("ignore")
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
            try:
                modified = getattr(wb.properties, "modified", None)  # stored in UTC (…Z): shown in local time
                if isinstance(modified, datetime):
                    modified = modified.replace(tzinfo=modified.tzinfo or timezone.utc).astimezone().replace(
                        tzinfo=None, microsecond=0)
                book = ReturnBook(list(wb.sheetnames), {}, modified if isinstance(modified, datetime) else None)
                for name, (max_row, max_col) in wanted.items():
                    if name not in wb.sheetnames:
                        continue
                    ws = wb[name]
                    sheet = SheetData(name)
                    for r, cells in enumerate(ws.iter_rows(min_row=1, max_row=max_row + 1, max_col=max_col), 1):
                        if any(c.value not in (None, "") for c in cells):
                            if r > max_row:
                                sheet.overflow = True
                            else:
                                sheet.rows[r] = list(cells)
                    sheet.merged = _merged_refs(wb._archive, ws._worksheet_path) if hasattr(ws, "_worksheet_path") \
                        else []
                    book.sheets[name] = sheet
            finally:
                wb.close()
    except ReturnFileError:
        raise
    except MemoryError:
        raise ReturnFileError("内容过大，无法读取。请部门使用下发的模板重新填写。") from None
    except Exception:  # a damaged or foreign workbook: openpyxl and its XML parser raise many kinds
        raise ReturnFileError("无法读取，文件可能已损坏，或不是由 Excel/WPS/LibreOffice 保存的工作簿。"
                              "请部门重新保存为 .xlsx 后交回。") from None
    return data, book

#!/usr/bin/env python3
"""Fuzz worker for the Excel import (回收汇总): reproducible mutated returns, each read, and committed when accepted.

Run by tests/services/collection/test_import_fuzz.py, or by hand to reproduce a finding:

    python tests/fuzz_worker.py DATA_DIR SEED N [--start K] [--only I,J,...] [--save DIR]
                                [--no-probes] [--part-limit BYTES]

DATA_DIR must be a new folder: a database is created there, templates of 2026Q3 are written for three
departments (raw, and filled with valid values so that some inputs import rows), and inputs K .. K+N-1 are made
from them. Input i depends on random.Random(f"{SEED}/{i}") alone (templates, key and template ids are fixed), so
`--only i` rebuilds the same bytes; the database it meets may differ (earlier inputs may have imported rows).
`--save DIR` writes every input that failed (or, with --only, every input) to DIR. `--no-probes` leaves out the
fixed probes (to explore other seeds quickly); `--part-limit` tries another return_file.MAX_PART_BYTES.

Inputs: byte flips/truncations/insertions of the whole file and of zip headers; inside the zip, mutations of the
XML parts (random byte edits, deleting/duplicating/moving elements, interesting and huge attribute values, deep
nesting, DOCTYPE/entities, encodings, comments); cell values (random unicode with control characters, 10k-char
strings, numbers like 1e308/NaN/-0, dates, booleans, errors, inline and rich strings, shared strings with a bad
index, formulas), cell references (XFD1048576, A0, garbage), rows (duplicated, moved, renumbered, thousands
pasted), merged cells, the workbook's sheets, content types, relationships and styles, the hidden identity and
row-token cells (edited, look-alike characters, and forged with this database's key to reach the row checks),
invisible characters (BOM, bidi marks) in input cells; zip structure (parts dropped, duplicated, renamed,
stored, bzip2/lzma, junk); whole non-xlsx files (empty, random, CSV, HTML, OLE2, .ods, .xlsb, .docx, over 50 MB);
and, at fixed indices (see PROBES), probes at the bounds of services/collection/return_file.py (parts just under the size
limit filled with one element repeated, one huge token, deep nesting; a renamed part; too many parts) and
regression probes for bugs this fuzzer found.

Each input is written to a file and read with read_return under a 10 s SIGALRM watchdog (and a hard
faulthandler exit at 30 s for a hang inside C code). Any exception is a failure; so is an English or unbounded
file-level message. A preview without errors is committed in one transaction and must not be refused; then the
database is checked: row counts grew exactly by what the summary says, the imported rows are the current
reports, integrity_check and foreign_key_check pass. A preview with errors must make commit raise
ProgressError and write nothing.
Peak RSS is measured per input (VmHWM, reset through /proc/self/clear_refs).

Prints one JSON line at the end: {"inputs", "failures", "slowest_s", "maxrss_mb", ...}. While running,
DATA_DIR/fuzz-current.json names the input in progress and DATA_DIR/fuzz-failures.jsonl gets each failure, so a
crash or a hard hang can be attributed by the caller.
"""

from __future__ import annotations

import argparse
import faulthandler
import hashlib
import html
import io
import json
import os
import random
import re
import resource
import signal
import sys
import time
import traceback
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
LIMIT_S = 10.0  # one input (read + commit) must finish within this
HARD_LIMIT_S = 30.0  # the process exits (faulthandler) when one input is stuck where SIGALRM cannot interrupt
RSS_LIMIT_MB = 500
MAX_ERRORS, MAX_MESSAGE = 1000, 3000  # a preview the window can show
TODAY = date(2026, 9, 20)
PERIOD = "2026Q3"
DEPARTMENTS = ("区教委", "区卫健委", "区委教育工委")
KEY = "9c0f4e1d2b3a" * 5 + "7e6d"  # the database's template key, fixed so that the templates are reproducible
ZIP_TIME = (2026, 9, 1, 8, 0, 0)
STAMP = b"2026-09-01T08:00:00"
SHEET1, SHEET2, SHEET3 = "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml", "xl/worksheets/sheet3.xml"
SST = "xl/sharedStrings.xml"
NS_MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CT_SST = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
REL_SST = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"

warnings.simplefilter("ignore")


class Hang(BaseException):
    """Raised by SIGALRM. A BaseException, so the importer's `except Exception` cannot turn it into a message."""


def _on_alarm(_signum, _frame):
    raise Hang(f"超过 {LIMIT_S:g} 秒")


# -- memory -----------------------------------------------------------------------------------------------

def _hwm_kb() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _rss_kb() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except (OSError, ValueError):
        return 0


def _trim() -> None:
    """Give memory freed by a large input back to the system, so the next input's peak is its own."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_hwm() -> bool:
    """Reset the peak RSS (Linux ≥ 4.0); ru_maxrss follows it, so the overall peak is kept by the caller."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


# -- zip and XML helpers ----------------------------------------------------------------------------------

class Zip:
    """A workbook's parts, in order, duplicates allowed."""

    def __init__(self, parts, method=zipfile.ZIP_DEFLATED):
        self.parts = [[n, b] for n, b in parts]
        self.method = method

    @classmethod
    def load(cls, data: bytes) -> Zip:
        zf = zipfile.ZipFile(io.BytesIO(data))
        return cls([(i.filename, zf.read(i)) for i in zf.infolist()])

    def copy(self) -> Zip:
        return Zip(self.parts, self.method)

    def names(self) -> list[str]:
        return list(dict.fromkeys(n for n, _ in self.parts))

    def get(self, name: str) -> bytes | None:
        for n, b in reversed(self.parts):
            if n == name:
                return b
        return None

    def set(self, name: str, body: bytes) -> None:
        found = False
        for p in self.parts:
            if p[0] == name:
                p[1], found = body, True
        if not found:
            self.parts.append([name, body])

    def size(self) -> int:
        return sum(len(b) for _, b in self.parts)

    def dump(self) -> bytes:
        buf = io.BytesIO()
        level = 1 if self.size() > 4_000_000 else 6
        with zipfile.ZipFile(buf, "w", self.method, compresslevel=level) as zf:
            for name, body in self.parts:
                info = zipfile.ZipInfo(name, ZIP_TIME)
                info.compress_type = self.method
                info.external_attr = 0o644 << 16
                zf.writestr(info, body, compresslevel=level)
        return buf.getvalue()


TAG_RE = re.compile(rb"<(/?)([A-Za-z_][^\s/<>]*)([^<>]*?)(/?)>")
ATTR_RE = re.compile(rb'(\s)([A-Za-z_][\w:.\-]*)="([^"]*)"')
REF_RE = re.compile(rb'\sr="([A-Z]{1,3})(\d+)"')


def local(name: bytes) -> bytes:
    return name.rsplit(b":", 1)[-1]


def elements(xml: bytes) -> list[tuple[int, int, bytes]]:
    """(start, end, tag) of every element, found with a tag tokenizer (tolerant of broken documents)."""
    out, stack = [], []
    for m in TAG_RE.finditer(xml):
        name = m.group(2)
        if m.group(1):
            for k in range(len(stack) - 1, -1, -1):
                if stack[k][0] == name:
                    out.append((stack[k][1], m.end(), name))
                    del stack[k:]
                    break
        elif m.group(4):
            out.append((m.start(), m.end(), name))
        else:
            stack.append((name, m.start()))
    return out


def of_kind(xml: bytes, tag: bytes) -> list[tuple[int, int, bytes]]:
    return [e for e in elements(xml) if local(e[2]) == tag]


def esc(text: str, attr: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if attr else text


def valid(text: str) -> str:
    """Text a cell can hold after parsing: no lone surrogates (they cannot be encoded in UTF-8)."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def enc(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def col_letters(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def cell_span(xml: bytes, ref: str) -> tuple[int, int] | None:
    needle = f' r="{ref}"'.encode()
    for s, e, _ in of_kind(xml, b"c"):
        head = xml[s:xml.find(b">", s) + 1]
        if needle in head:
            return s, e
    return None


def set_cell(xml: bytes, ref: str, cell: bytes) -> bytes:
    """Replace the cell at `ref` (or add it to its row, or add the row) with `cell`."""
    span = cell_span(xml, ref)
    if span:
        return xml[:span[0]] + cell + xml[span[1]:]
    row = int(re.match(r"[A-Z]+(\d+)", ref).group(1))
    for s, e, _ in of_kind(xml, b"row"):
        if re.search(rb'\sr="%d"' % row, xml[s:xml.find(b">", s)]):
            if xml[e - 2:e] == b"/>":
                head = xml[s:e - 2] + b">"
                return xml[:s] + head + cell + b"</row>" + xml[e:]
            end = xml.rfind(b"</", s, e)
            return xml[:end] + cell + xml[end:]
    new_row = b'<row r="%d">' % row + cell + b"</row>"
    at = xml.find(b"</sheetData>")
    if at < 0:
        return xml.replace(b"<sheetData/>", b"<sheetData>" + new_row + b"</sheetData>", 1)
    return xml[:at] + new_row + xml[at:]


def inline(ref: str, text: str, style: bytes = b"") -> bytes:
    return (f'<c r="{ref}"'.encode() + style + b' t="inlineStr"><is><t xml:space="preserve">' + enc(esc(text))
            + b"</t></is></c>")


def number(ref: str, value: str, style: bytes = b"") -> bytes:
    return f'<c r="{ref}"'.encode() + style + b"><v>" + enc(esc(value)) + b"</v></c>"


def cell_text(z: Zip, xml: bytes, span: tuple[int, int]) -> str | None:
    body = xml[span[0]:span[1]]
    m = re.search(rb"<(?:\w+:)?t[^>]*>(.*?)</(?:\w+:)?t>", body, re.S)
    if m and b't="s"' not in body[:body.find(b">")]:
        return html.unescape(m.group(1).decode("utf-8", "replace"))
    m = re.search(rb"<v>(\d+)</v>", body)
    if m and b't="s"' in body[:body.find(b">")] and z.get(SST):
        sis = of_kind(z.get(SST), b"si")
        i = int(m.group(1))
        if i < len(sis):
            si = z.get(SST)[sis[i][0]:sis[i][1]]
            return html.unescape(b"".join(re.findall(rb"<t[^>]*>(.*?)</t>", si, re.S)).decode("utf-8", "replace"))
    return None


def style_of(xml: bytes, span) -> bytes:
    m = re.search(rb'\ss="\d+"', xml[span[0]:xml.find(b">", span[0])])
    return m.group(0) if m else b""


def to_shared_strings(z: Zip) -> Zip:
    """The same workbook with its strings in xl/sharedStrings.xml, as Excel and WPS save them."""
    z = z.copy()
    strings: list[bytes] = []
    index: dict[bytes, int] = {}

    def repl(m):
        text = m.group(3)
        if text not in index:
            index[text] = len(strings)
            strings.append(text)
        return m.group(1) + b' t="s"' + m.group(2) + b"><v>%d</v></c>" % index[text]

    pattern = re.compile(
        rb'(<c r="[A-Z]+\d+"(?: s="\d+")?) t="inlineStr"((?: s="\d+")?)><is><t[^>]*>(.*?)</t></is></c>', re.S)
    for name in (SHEET1, SHEET2, SHEET3):
        z.set(name, pattern.sub(repl, z.get(name)))
    sst = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="' + NS_MAIN
           + b'" count="%d" uniqueCount="%d">' % (len(strings), len(strings))
           + b"".join(b'<si><t xml:space="preserve">' + s + b"</t></si>" for s in strings) + b"</sst>")
    z.set(SST, sst)
    z.set("[Content_Types].xml", z.get("[Content_Types].xml").replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="' + CT_SST + b'" /></Types>'))
    z.set("xl/_rels/workbook.xml.rels", z.get("xl/_rels/workbook.xml.rels").replace(
        b"</Relationships>", b'<Relationship Type="' + REL_SST + b'" Target="sharedStrings.xml" Id="rId99" />'
                             b"</Relationships>"))
    return z


def canonical(data: bytes) -> bytes:
    """Fixed timestamps (zip entries, docProps, _meta), so the same seed always gives the same bytes."""
    z = Zip.load(data)
    for p in z.parts:
        if p[0] == "docProps/core.xml" or p[0].startswith("xl/worksheets/"):
            p[1] = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?", STAMP, p[1])
    return z.dump()


# -- values -------------------------------------------------------------------------------------------------

TEXTS = ["_xD800_", "_x0001_", "确认无变化", " 确认无变化 ", "确认无变化\u200b", "确认 无变化", "正常推进", "已完成",
         "滞后", "暂缓", "未启动",
         "正常推进\n", "=1+1", '=HYPERLINK("http://example.com")', "+1", "-1", "@A1", "100%", "１００", "５０．５％",
         "1,5", "1,500", "nan", "NaN", "inf", "-inf", "-0", "1e308", "1e309", "4.9e-324", "0x10", "1_0", "T1", "T0",
         "T999999999", "T9999999999", "I1", "I0", "T-1", "t1", " T1 ", "T１", "T٣", "{}", "[]", "null", "true",
         '{"mark": "qjgb-template"}', "::", "1::", ":" * 100, "_x0000_", "_x000D_", "_x001F_", "_x0041_", "\u202e",
         "\ufeff", "\ufffe", "\uffff", "\u2028", "\u0085", "\U00020000", "😀" * 10, "a\r\nb", "\t", " ", "\u3000",
         "", "\x00", "\x01\x02\x1f", "\ud800", "\udfff", "'", '"', "<", "&", "]]>", "-->", "%s%n", "{0}", "\\"]
NUMBERS = ["0", "-0", "-0.0", "1", "50", "99.5", "100", "100.0000001", "101", "-1", "1e308", "-1e308", "1e309",
           "1.7976931348623157e308", "4.9e-324", "2.2250738585072014e-308", "NaN", "nan", "INF", "-Infinity",
           "Infinity", "1E2", "1e-5", "0.1", "9" * 20, "9" * 400, "9" * 5000, "1.5.5", "", " 5", "5 ", "0x1F", "1_000",
           "١٢٣", "+5", ".5", "5.", "1e", "e1", "--1", "1e-400", "123456789012345678901234567890.5"]
DATES = ["2026-07-01", "2026-07-01T12:00:00", "2026-07-01T12:00:00Z", "2026-07-01T12:00:00.123456+08:00",
         "2026-13-45", "9999-12-31T23:59:59", "0001-01-01", "0000-00-00", "1899-12-30", "garbage", "", "12:00:00",
         "P1D", "2026-02-30", "-2026-01-01", "20260701", "2026-07-01T24:00:00"]
REFS = ["XFD1048576", "A0", "A1048577", "XFE1", "ZZZZ1", "g4", "$G$4", "G4:G5", "", "G", "4", "G-4", "G4.5", "G 4",
        "Ｇ４", "G" + "9" * 50, "AAA1", "A1", "A2", "F3", "G205", "G206", "M4", "A4", "G04", "G+4"]
ROWNUMS = ["0", "-1", "1", "2", "3", "4", "5", "204", "205", "206", "1048576", "1048577", "abc", "", "4.0", "4.5",
           "1e3", "9" * 30, "٤", " 4", "0x4"]
MERGES = ["F4:G5", "G4:G4", "A1:XFD1048576", "F:F", "4:4", "G4", "F4:", "", ":", "ZZZZ1:A1", "A1:B2:C3", "$F$4:$G$5",
          "F4:G5 H4:I5", "A1:M3", "L4:L30", "M4:M5", "A0:B0", "XFD1048576:XFD1048576", "G5:F4", "A4:A204",
          "F1:F1048576", "x" * 5000]
ATTR_VALUES = ["", "0", "-1", "1", "2", "99999999999", "-99999999999", "1e308", "NaN", "-0", "true", "1.5", "abc",
               "XFD1048576", "A0", "A1:XFD1048576", "rId999", "\u202e", "填报", "_meta", " ", "\t", "&amp;", "&#0;",
               "&#x1F600;", "&lt;&gt;", "&undefined;", "%", "../../etc/passwd", "http://example.com/x.xml",
               "/xl/worksheets/sheet1.xml", "inlineStr", "s", "str", "b", "e", "n", "d", "veryHidden", "hidden"]
BOOLS = ["0", "1", "2", "true", "false", "", "-1", "TRUE"]
ERRORS = ["#DIV/0!", "#N/A", "#REF!", "#VALUE!", "#NULL!", "#NUM!", "#NAME?", "#GETTING_DATA", "junk", ""]
FORMULAS = [b"<f>SUM(G4:G5)</f><v>3</v>", b"<f>1/0</f><v>#DIV/0!</v>",
            b'<f t="shared" ref="G4:G20" si="0">G3+1</f><v>1</v>', b'<f t="shared" si="0"/><v>2</v>',
            b'<f t="shared" si="77"/>', b'<f t="shared" ref="G4:G9" si="1">' + b"(" * 3000 + b"</f>",
            b'<f t="array" ref="G4:G5">{1,2}</f><v>1</v>', b'<f t="array"/>',
            b'<f t="dataTable" ref="G4:G5" dt2D="1" dtr="1" r1="A1" r2="B1"/>',
            b"<f>&quot;abc&quot;&amp;&quot;d&quot;</f>",
            b'<f>HYPERLINK("file:///etc/passwd")</f><v>x</v>', b"<f/>", b"<f></f><v>5</v>",
            b"<f>" + b"A1+" * 2000 + b"1</f>", b'<f t="shared" ref="ZZZZ9:A0" si="2">#REF!+1</f>', b"<f>=</f>",
            b"<f>\xe4\xb8\xad(</f>"]


def rand_text(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.35:
        return rng.choice(TEXTS)
    if r < 0.45:
        depth = rng.choice([10, 100, 1000, 3000, 30000])
        return rng.choice(["[" * depth, '{"a":' * depth, "[" * depth + "]" * depth, "\\" * depth, '"' * depth])
    length = rng.choice([1, 2, 5, 20, 100, 1000, 4999, 5001, 10000, 32767, 40000])
    alphabet = rng.choice(["ascii", "cjk", "control", "bmp", "astral", "mixed"])
    if alphabet == "ascii":
        chars = [chr(rng.randint(32, 126)) for _ in range(min(length, 1000))]
    elif alphabet == "cjk":
        chars = [chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(min(length, 1000))]
    elif alphabet == "control":
        pool = [*range(0, 32), 0x7F, 0x85, 0x9F, 0x2028, 0x202E, 0xFEFF]
        chars = [chr(rng.choice(pool)) for _ in range(min(length, 200))]
    elif alphabet == "bmp":
        chars = [chr(rng.randint(1, 0xFFFF)) for _ in range(min(length, 1000))]
    elif alphabet == "astral":
        chars = [chr(rng.randint(0x10000, 0x10FFFF)) for _ in range(min(length, 500))]
    else:
        pool = ["a", "中", "\x01", "\n", "😀", "\u0301", " ", "&", "<", "_x000D_"]
        chars = [rng.choice(pool) for _ in range(min(length, 500))]
    text = "".join(chars)
    return (text * (length // max(len(text), 1) + 1))[:length]


def xml_text(rng: random.Random, text: str) -> bytes:
    """Escaped for XML; control characters as openpyxl's _xHHHH_ escapes, as character references (not allowed in
    XML 1.0) or raw."""
    text = esc(text)
    mode = rng.random()
    controls = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
    if mode < 0.5:
        text = controls.sub(lambda m: "_x%04X_" % ord(m.group()), text)
    elif mode < 0.7:
        text = controls.sub(lambda m: "&#x%x;" % ord(m.group()), text)
    return enc(text)


LOOKALIKE = str.maketrans("aceopxyABCEHKMOPTX0123456789:", "асеорхуАВСЕНКМОРТХ０１２３４５６７８９：")


def mutate_text(rng: random.Random, text: str) -> str:
    for _ in range(rng.choice([1, 1, 2, 5])):
        op = rng.randrange(10)
        i = rng.randrange(len(text) + 1)
        if op == 0 and text:
            text = text[:i] + text[i + 1:]
        elif op == 1:
            text = text[:i] + rand_text(rng)[:rng.choice([1, 3, 50])] + text[i:]
        elif op == 2 and text:
            text = text[:i] + chr(rng.randint(0, 0x2FFF)) + text[i + 1:]
        elif op == 3:
            text = text[:i]
        elif op == 4:
            text = text + rand_text(rng)
        elif op == 5:
            text = text.upper() if rng.random() < 0.5 else text.swapcase()
        elif op == 6:
            text = rng.choice(["=", "'", " ", "\ufeff", "\u202e"]) + text
        elif op == 7:
            text = text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        elif op == 8 and text:  # one character for a look-alike (Cyrillic, full-width)
            i = min(i, len(text) - 1)
            text = text[:i] + text[i].translate(LOOKALIKE) + text[i + 1:]
        else:
            text = text * rng.choice([2, 10, 1000])
    return text


def new_cell(rng: random.Random, ref: str, style: bytes) -> tuple[str, bytes]:
    kind = rng.choice(["inline", "inline", "inline", "number", "number", "shared", "bool", "error", "date", "str",
                       "formula", "formula", "empty", "rich", "unknown", "noref"])
    r = f'<c r="{ref}"'.encode() + style
    if kind == "inline":
        text = xml_text(rng, rand_text(rng))
        return kind, r + b' t="inlineStr"><is><t xml:space="preserve">' + text + b"</t></is></c>"
    if kind == "number":
        return kind, r + rng.choice([b"", b' t="n"']) + b"><v>" + enc(rng.choice(NUMBERS)) + b"</v></c>"
    if kind == "shared":
        return kind, r + b' t="s"><v>' + enc(rng.choice(["-1", "0", "1", "5", "999999", "abc", "", "1e3", "0x1",
                                                         "99999999999999999999"])) + b"</v></c>"
    if kind == "bool":
        return kind, r + b' t="b"><v>' + enc(rng.choice(BOOLS)) + b"</v></c>"
    if kind == "error":
        return kind, r + b' t="e"><v>' + enc(rng.choice(ERRORS)) + b"</v></c>"
    if kind == "date":
        return kind, r + b' t="d"><v>' + enc(rng.choice(DATES)) + b"</v></c>"
    if kind == "str":
        return kind, r + b' t="str"><v>' + xml_text(rng, rand_text(rng)) + b"</v></c>"
    if kind == "formula":
        return kind, r + rng.choice([b"", b' t="str"', b' t="e"', b' t="b"']) + b">" + rng.choice(FORMULAS) + b"</c>"
    if kind == "empty":
        return kind, rng.choice([r + b"/>", r + b' t="s"/>', r + b"><v></v></c>", r + b' t="inlineStr"/>',
                                 r + b' t="inlineStr"><is/></c>', r + b' t="n"><v/></c>'])
    if kind == "rich":
        one, two = xml_text(rng, rand_text(rng)), xml_text(rng, rand_text(rng))
        return kind, (r + b' t="inlineStr"><is><r><rPr><b/><sz val="99999"/></rPr><t>' + one
                      + b'</t></r><r><t xml:space="preserve"> </t></r><rPh sb="0" eb="1"><t>' + two
                      + b"</t></rPh></is></c>")
    if kind == "unknown":
        return kind, r + b' t="' + enc(rng.choice(["zz", "", "S", "inlinestr", "n s"])) + b'"><v>1</v></c>'
    return kind, style and b"<c" + style + b"><v>7</v></c>" or b"<c><v>7</v></c>"


# -- the context ---------------------------------------------------------------------------------------------

@dataclass
class Ctx:
    db: object
    seeds: dict[str, bytes]
    zips: dict[str, Zip]
    key: bytes
    target_ids: list[int]
    indicator_ids: list[int]
    report_ids: list[int]
    max_part: int
    max_parts: int
    max_parts_bytes: int
    max_file: int
    mods: SimpleNamespace = field(default_factory=SimpleNamespace)
    no_probes: bool = False


def pick_cell(rng: random.Random, xml: bytes, sheet: str) -> tuple[tuple[int, int], str] | None:
    spans = [(s, e) for s, e, _ in of_kind(xml, b"c")]
    if not spans:
        return None
    weights, refs = [], []
    for s, _ in spans:
        m = REF_RE.search(xml, s, xml.find(b">", s) + 1)
        col, row = (col_index(m.group(1)), int(m.group(2))) if m else (0, 0)
        refs.append(f"{col_letters(col)}{row}" if m else "A1")
        if sheet == SHEET1:
            hidden = (col in (1, 13) and row >= 4) or (col == 1 and row <= 2)
            w = 6 if 6 <= col <= 12 and row >= 4 else 3 if hidden else 1
        elif sheet == SHEET2:
            w = 6 if col == 6 and row >= 4 else 3 if col in (1, 8) and row >= 4 else 1
        else:
            w = 4 if col == 2 else 2
        weights.append(w)
    i = rng.choices(range(len(spans)), weights)[0]
    return spans[i], refs[i]


def sheet_part(rng: random.Random, z: Zip, weights=(6, 3, 1)) -> str | None:
    names = [n for n in (SHEET1, SHEET2, SHEET3) if z.get(n) is not None]
    if not names:
        return None
    return rng.choices(names, [dict(zip((SHEET1, SHEET2, SHEET3), weights))[n] for n in names])[0]


PART_WEIGHTS = {SHEET1: 6, SHEET2: 3, SHEET3: 2, SST: 4, "xl/workbook.xml": 4, "[Content_Types].xml": 3,
                "xl/styles.xml": 3, "xl/_rels/workbook.xml.rels": 3, "_rels/.rels": 1, "docProps/core.xml": 1,
                "docProps/app.xml": 1, "xl/theme/theme1.xml": 1}


def xml_part(rng: random.Random, z: Zip) -> str | None:
    names = [n for n in z.names() if n.endswith((".xml", ".rels"))]
    return rng.choices(names, [PART_WEIGHTS.get(n, 1) for n in names])[0] if names else None


# -- structure-aware mutations: each changes z and says what it did --------------------------------------------

def m_cell_value(rng, z, ctx, sheet=None):
    sheet = sheet or sheet_part(rng, z)
    if not sheet:
        return "cell:none"
    xml = z.get(sheet)
    picked = pick_cell(rng, xml, sheet)
    if not picked:
        return "cell:none"
    (s, e), ref = picked
    if rng.random() < 0.25:  # a different reference as well
        ref = rng.choice(REFS)
    kind, cell = new_cell(rng, ref, style_of(xml, (s, e)) if rng.random() < 0.8 else b' s="' + enc(rng.choice(
        ["9999", "-1", "abc", "1.5", ""])) + b'"')
    z.set(sheet, xml[:s] + cell + xml[e:])
    return f"cell.{kind}:{sheet.rsplit('/', 1)[-1]}:{ref[:20]}"


def m_indicator_cell(rng, z, ctx):
    return m_cell_value(rng, z, ctx, SHEET2 if z.get(SHEET2) else None)


def m_text_edit(rng, z, ctx, sheet=None, refs=None):
    """An existing string cell's text edited: the identity (A1/A2), a row id or token, a header, a value."""
    sheet = sheet or sheet_part(rng, z, (6, 2, 3))
    if not sheet:
        return "text:none"
    xml = z.get(sheet)
    if refs:
        ref = rng.choice(refs)
        span = cell_span(xml, ref)
        if not span:
            return "text:none"
    else:
        picked = pick_cell(rng, xml, sheet)
        if not picked:
            return "text:none"
        span, ref = picked
    text = cell_text(z, xml, span) or ""
    new = mutate_text(rng, text)
    cell = (b'<c r="' + enc(ref) + b'"' + style_of(xml, span) + b' t="inlineStr"><is><t xml:space="preserve">'
            + xml_text(rng, new) + b"</t></is></c>")
    z.set(sheet, xml[:span[0]] + cell + xml[span[1]:])
    return f"text:{sheet.rsplit('/', 1)[-1]}:{ref}"


def m_hidden_cells(rng, z, ctx):
    xml = z.get(SHEET1)
    if xml is None:
        return "hidden:none"
    rows = sorted({int(m.group(2)) for m in REF_RE.finditer(xml) if int(m.group(2)) >= 4}) or [4]
    refs = ["A1", "A2"] + [f"{c}{r}" for r in rng.sample(rows, min(3, len(rows))) for c in "AM"]
    return "hidden." + m_text_edit(rng, z, ctx, SHEET1, refs)


def m_meta(rng, z, ctx):
    xml = z.get(SHEET3)
    if xml is None:
        return "meta:none"
    if rng.random() < 0.5:
        return "meta." + m_text_edit(rng, z, ctx, SHEET3, [f"B{r}" for r in range(1, 8)] + ["A1", "A3", "A4", "A5"])
    ref = f"{rng.choice('AB')}{rng.randint(1, 9)}"
    z.set(SHEET3, set_cell(xml, ref, inline(ref, rng.choice(["department", "period", "plan", "template_version",
                                                              "区财政局", "2026Q4", "1", "3", "", rand_text(rng)]))))
    return f"meta.set:{ref}"


def seed_identity(ctx, z):
    text = cell_text(z, z.get(SHEET1), cell_span(z.get(SHEET1), "A1") or (0, 0)) if z.get(SHEET1) else None
    return ctx.mods.Identity.parse(text) if text else None


def sync_meta(z: Zip, identity) -> None:
    """The _meta sheet's plan, department and period made to agree with a forged identity."""
    xml = z.get(SHEET3)
    for r, value in ((1, identity.plan), (3, identity.department), (4, identity.period)):
        xml = set_cell(xml, f"B{r}", inline(f"B{r}", value))
    z.set(SHEET3, xml)


def m_forge_identity(rng, z, ctx):
    """A template identity signed with this database's key: reaches the checks behind the signature."""
    ident = seed_identity(ctx, z)
    if ident is None or z.get(SHEET1) is None:
        return "forge:none"
    Identity = ctx.mods.Identity
    department = rng.choice([ident.department, *DEPARTMENTS, "不存在的部门", "", "区教委\x00", "区教委 ", "区教委" * 50,
                             valid(rand_text(rng)[:100])])
    period = rng.choice([ident.period, "2026Q4", "2025Q1", "2027Q4", "2026-09", "2026Q5", "0000Q1", "9999Q4",
                         "２０２６Q3", "2026q3", " 2026Q3 ", "2026", "", "2026-00", "1900Q1"])
    plan = rng.choice([ident.plan, ident.plan, "other-plan", ""])
    version = rng.choice([ident.version, "1", "3", ""])
    new = Identity(plan, department, period, rng.choice([ident.uid, "0" * 16, ""]), version)
    xml = set_cell(z.get(SHEET1), "A1", inline("A1", new.text()))
    xml = set_cell(xml, "A2", inline("A2", new.signature(ctx.key)))
    z.set(SHEET1, xml)
    if rng.random() < 0.7 and z.get(SHEET3) is not None:
        sync_meta(z, new)
    return f"forge.identity:{department[:12]!r}/{period!r}/{plan[:8]!r}/v{version!r}"


def m_forge_row(rng, z, ctx):
    """A row id and token signed with the key: another target, another source report, prefill digests."""
    ident = seed_identity(ctx, z)
    if ident is None:
        return "forge:none"
    sheet = SHEET1 if rng.random() < 0.75 else SHEET2
    xml = z.get(sheet)
    rows = sorted({int(m.group(2)) for m in REF_RE.finditer(xml) if int(m.group(2)) >= 4})
    if not rows:
        return "forge:none"
    r = rng.choice(rows + [rows[-1] + 1, 204, 205])
    span = cell_span(xml, f"A{r}")
    old_key = (cell_text(z, xml, span) or "") if span else ""
    if sheet == SHEET1:
        row_key = rng.choice([old_key, old_key, f"T{rng.choice(ctx.target_ids)}", "T0", "T999999999", "I1",
                              old_key + " "])
        values = [rng.choice(["", "正常推进", "已完成", "滞后", rand_text(rng)[:20]]),
                  rng.choice([None, 0, 50, 100, 101, -1, 1e308, "80", "nan"]),
                  rng.choice(["", "进展", rand_text(rng)[:200]]), rng.choice(["", "问题"]), rng.choice(["", "计划"]),
                  rng.choice(["", "李老师", " "])]
        token_col, cols = "M", "FGHIJK"
    else:
        row_key = rng.choice([old_key, old_key, f"I{rng.choice(ctx.indicator_ids)}", "I0", "T1"])
        values = [rng.choice([None, 0, 95.5, "80%", 1e13, "abc", -0.0])]
        token_col, cols = "H", "F"
    source = rng.choice([None, None, *ctx.report_ids, 999999999999, 0])
    values = [valid(v) if isinstance(v, str) else v for v in values]
    digest_values = values if rng.random() < 0.8 else [valid(rand_text(rng)[:10])]
    token = ctx.mods.row_token(ctx.key, ident, row_key, source, digest_values)
    variant = ""
    if rng.random() < 0.4:
        variant = rng.choice(["colon", "upper", "lead", "double", "cjk", "cyrillic"])
        token = {"colon": token + ":", "upper": token.upper(), "lead": ":" + token, "double": token.replace(":", "::"),
                 "cjk": token[:-1] + "中", "cyrillic": token[:-1] + "\u0430"}[variant]
    xml = set_cell(xml, f"A{r}", inline(f"A{r}", row_key))
    xml = set_cell(xml, f"{token_col}{r}", inline(f"{token_col}{r}", token))
    if rng.random() < 0.8:
        for c, v in zip(cols, values):
            ref = f"{c}{r}"
            if v is None:
                xml = set_cell(xml, ref, f'<c r="{ref}"/>'.encode())
            elif isinstance(v, str):
                xml = set_cell(xml, ref, inline(ref, v))
            else:
                xml = set_cell(xml, ref, number(ref, repr(v)))
    if sheet == SHEET1 and rng.random() < 0.3:
        xml = set_cell(xml, f"L{r}", inline(f"L{r}", rng.choice(["确认无变化", "是", " 确认无变化"])))
    z.set(sheet, xml)
    return f"forge.row:{sheet.rsplit('/', 1)[-1]}:{r}:{row_key[:12]}:src={source}{':' + variant if variant else ''}"


INVISIBLE = ["\ufeff", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
             "\u200b", "\u200e", "\u00ad", "\u3000", "\u2028", "\u0085", "\ufffe"]


def m_invisible(rng, z, ctx):
    """Invisible characters pasted with a value (bidi marks, BOM, zero-width, NEL): alone, or around the value."""
    sheet = SHEET1 if rng.random() < 0.85 else SHEET2
    xml = z.get(sheet)
    if xml is None:
        return "invisible:none"
    rows = sorted({int(m.group(2)) for m in REF_RE.finditer(xml) if int(m.group(2)) >= 4}) or [4]
    filled = [r for r in rows if (cell_text(z, xml, cell_span(xml, f"F{r}") or (0, 0)) or "").strip()]
    r = rng.choice(filled if filled and rng.random() < 0.8 else rows)
    col = rng.choices("FGHIJKL", (1, 1, 1, 2, 2, 3, 1))[0] if sheet == SHEET1 else "F"
    ref = f"{col}{r}"
    span = cell_span(xml, ref)
    old = (cell_text(z, xml, span) if span else None) or rng.choice(["正常推进", "李老师", "80", "确认无变化", ""])
    marks = "".join(rng.choice(INVISIBLE) for _ in range(rng.choice([1, 1, 2, 3])))
    new = rng.choice([marks, marks, marks + old, old + marks, old[:1] + marks + old[1:]])
    z.set(sheet, set_cell(xml, ref, inline(ref, new, style_of(xml, span) if span else b"")))
    return f"invisible:{sheet.rsplit('/', 1)[-1]}:{ref}:{new.encode('unicode_escape').decode()[:30]}"


def m_cell_ref(rng, z, ctx):
    sheet = sheet_part(rng, z)
    if not sheet:
        return "ref:none"
    xml = z.get(sheet)
    refs = [m for m in re.finditer(rb'(<c\b[^>]*?\sr=")([^"]*)(")', xml)]
    if not refs:
        return "ref:none"
    m = rng.choice(refs)
    value = rng.choice(REFS + [refs[rng.randrange(len(refs))].group(2).decode()])
    if rng.random() < 0.15:
        z.set(sheet, xml[:m.start()] + b"<c" + xml[m.end(3):])  # no reference at all
        return f"ref.drop:{sheet.rsplit('/', 1)[-1]}"
    z.set(sheet, xml[:m.start(2)] + enc(esc(value, True)) + xml[m.end(2):])
    return f"ref:{sheet.rsplit('/', 1)[-1]}:{m.group(2).decode()}->{value[:20]}"


def m_rows(rng, z, ctx):
    sheet = sheet_part(rng, z)
    if not sheet:
        return "row:none"
    xml = z.get(sheet)
    rows = of_kind(xml, b"row")
    if not rows:
        return "row:none"
    s, e, _ = rng.choice(rows)
    body = xml[s:e]
    op = rng.choice(["renumber", "renumber", "dup", "dup_renumbered", "delete", "move", "noref", "many", "far",
                     "spans"])
    if op == "renumber":
        value = rng.choice(ROWNUMS)
        body = re.sub(rb'^(<row\b[^>]*?\sr=")[^"]*', lambda m: m.group(1) + enc(value), body, count=1)
        z.set(sheet, xml[:s] + body + xml[e:])
        return f"row.renumber:{sheet.rsplit('/', 1)[-1]}:{value[:12]}"
    if op == "dup":
        z.set(sheet, xml[:e] + body * rng.choice([1, 2, 10]) + xml[e:])
    elif op == "dup_renumbered":
        other = rng.choice(rows)
        m = re.search(rb'\sr="(\d+)"', xml[other[0]:other[1]][:200])
        n = m.group(1) if m else b"4"
        copy = re.sub(rb'(<row\b[^>]*?\sr=")[^"]*', lambda x: x.group(1) + n, body, count=1)
        copy = re.sub(rb'(<c\b[^>]*?\sr="[A-Z]+)\d+', lambda x: x.group(1) + n, copy)
        z.set(sheet, xml[:e] + copy + xml[e:])
    elif op == "delete":
        z.set(sheet, xml[:s] + xml[e:])
    elif op == "move":
        rest = xml[:s] + xml[e:]
        at = rest.find(b"</sheetData>")
        z.set(sheet, rest[:at] + body + rest[at:] if at >= 0 else rest)
    elif op == "noref":
        z.set(sheet, xml[:s] + re.sub(rb'\sr="[^"]*"', b"", body) + xml[e:])
    elif op in ("many", "far"):
        start = rng.choice([5, 100, 150, 200, 205]) if op == "many" else rng.choice([205, 1000, 20000, 1048576])
        count = rng.choice([1, 10, 300, 2000]) if op == "many" else 1
        new = b"".join(b'<row r="%d"><c r="F%d" t="inlineStr"><is><t>x</t></is></c><c r="G%d"><v>5</v></c></row>'
                       % (i, i, i) for i in range(start, start + count))
        at = xml.find(b"</sheetData>")
        if at < 0:
            return "row:none"
        z.set(sheet, xml[:at] + new + xml[at:])
        return f"row.{op}:{sheet.rsplit('/', 1)[-1]}:{start}+{count}"
    else:
        spans = enc(rng.choice(["1:13", "0:0", "13:1", "a:b", "1:16384", "1:99999999"]))
        body = re.sub(rb'^(<row\b)', lambda m: m.group(1) + b' spans="' + spans + b'"',
                      re.sub(rb'\sspans="[^"]*"', b"", body), count=1)
        z.set(sheet, xml[:s] + body + xml[e:])
    return f"row.{op}:{sheet.rsplit('/', 1)[-1]}"


def m_merge(rng, z, ctx):
    sheet = sheet_part(rng, z, (6, 3, 0))
    if not sheet:
        return "merge:none"
    xml = z.get(sheet)
    refs = [rng.choice(MERGES) for _ in range(rng.choice([1, 1, 2, 5, 50]))]
    cells = b"".join(b'<mergeCell ref="' + enc(esc(r, True)) + b'"/>' for r in refs)
    m = re.search(rb"<mergeCells\b[^>]*>", xml)
    if m and rng.random() < 0.7:
        z.set(sheet, xml[:m.end()] + cells + xml[m.end():])
    elif m:
        first = enc(esc(refs[0], True))
        z.set(sheet, re.sub(rb'(<mergeCell\b[^>]*?ref=")[^"]*', lambda x: x.group(1) + first, xml, count=1))
    else:
        at = xml.find(b"</sheetData>")
        if at < 0:
            return "merge:none"
        at += len(b"</sheetData>")
        z.set(sheet, xml[:at] + b'<mergeCells count="%d">' % len(refs) + cells + b"</mergeCells>" + xml[at:])
    return f"merge:{sheet.rsplit('/', 1)[-1]}:{','.join(r[:12] for r in refs[:3])}"


def m_date_style(rng, z, ctx):
    """A number in a date/time format: openpyxl turns it into a datetime, time or timedelta (or fails)."""
    styles = z.get("xl/styles.xml")
    sheet = sheet_part(rng, z, (6, 3, 0))
    if styles is None or not sheet:
        return "datestyle:none"
    m = re.search(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", styles, re.S)
    if not m:
        return "datestyle:none"
    index = len(re.findall(rb"<xf\b", m.group(1)))
    fmt = rng.choice([14, 22, 46, 21, 47, 45, 164])
    if fmt == 164:
        code = rng.choice(["yyyy-mm-dd", "[h]:mm:ss", "mm:ss.0", "@", "0%", "d", '"text"', "x" * 1000, "[$-F800]dddd",
                           "yyyy\u5e74m\u6708d\u65e5", ""])
        numfmt = b'<numFmt numFmtId="164" formatCode="' + enc(esc(code, True)) + b'"/>'
        if b"<numFmts" in styles:
            styles = re.sub(rb"(<numFmts\b[^>]*>)", lambda x: x.group(1) + numfmt, styles, count=1)
        else:
            styles = re.sub(rb"(<styleSheet\b[^>]*>)",
                            lambda x: x.group(1) + b'<numFmts count="1">' + numfmt + b"</numFmts>", styles, count=1)
    xf = b'<xf numFmtId="%d" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"/>' % fmt
    styles = styles.replace(b"</cellXfs>", xf + b"</cellXfs>", 1)
    z.set("xl/styles.xml", styles)
    xml = z.get(sheet)
    picked = pick_cell(rng, xml, sheet)
    if not picked:
        return "datestyle:none"
    (s, e), ref = picked
    value = rng.choice(["45000", "45000.5", "1e308", "-1", "0", "2958466", "2958465.99999", "60", "1e-5", "NaN", "-0",
                        "1e15", "0.5", "100"])
    z.set(sheet, xml[:s] + number(ref, value, b' s="%d"' % index) + xml[e:])
    return f"datestyle:{fmt}:{sheet.rsplit('/', 1)[-1]}:{ref}={value}"


def m_xml_bytes(rng, z, ctx):
    part = xml_part(rng, z)
    if not part:
        return "xmlbytes:none"
    data = bytearray(z.get(part))
    for _ in range(rng.choice([1, 1, 2, 5, 20])):
        if not data:
            break
        i = rng.randrange(len(data))
        op = rng.randrange(5)
        if op == 0:
            data[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            data[i:i] = rng.choice([b"<", b">", b"&", b'"', b"'", b"\x00", b"\xff", b"/", b"=", b";", b"#", b"<!--",
                                    b"]]>", b"\xe4\xb8", b"\xed\xa0\x80", b"&#0;", b"&#xD800;", b"\r", b"<x>"])
        elif op == 2:
            del data[i:i + rng.choice([1, 2, 10, 100])]
        elif op == 3:
            data[i:i] = data[i:i + rng.choice([1, 10, 100])]
        else:
            data[i] = rng.randrange(256)
    z.set(part, bytes(data))
    return f"xmlbytes:{part}"


def m_element(rng, z, ctx):
    part = xml_part(rng, z)
    if not part:
        return "elem:none"
    xml = z.get(part)
    elems = elements(xml)
    if not elems:
        return "elem:none"
    s, e, tag = rng.choice(elems)
    op = rng.choice(["delete", "delete", "dup", "dup", "move", "swap", "replace", "empty"])
    if op == "delete":
        z.set(part, xml[:s] + xml[e:])
    elif op == "dup":
        z.set(part, xml[:e] + xml[s:e] * rng.choice([1, 1, 2, 10, 1000]) + xml[e:])
    elif op == "move":
        rest = xml[:s] + xml[e:]
        at = rng.randrange(len(rest) + 1)
        z.set(part, rest[:at] + xml[s:e] + rest[at:])
    elif op in ("swap", "replace"):
        s2, e2, _ = rng.choice(elems)
        if op == "swap" and e2 <= s:
            z.set(part, xml[:s2] + xml[s:e] + xml[e2:s] + xml[s2:e2] + xml[e:])
        elif op == "swap" and s2 >= e:
            z.set(part, xml[:s] + xml[s2:e2] + xml[e:s2] + xml[s:e] + xml[e2:])
        else:  # replaced by another element (for a swap of nested elements: the one by the other)
            z.set(part, xml[:s] + xml[s2:e2] + xml[e:])
    else:
        z.set(part, xml[:s] + b"<" + tag + b"/>" + xml[e:])
    return f"elem.{op}:{part}:{local(tag).decode(errors='replace')}"


def m_attr(rng, z, ctx, huge=False):
    part = xml_part(rng, z)
    if not part:
        return "attr:none"
    xml = z.get(part)
    attrs = list(ATTR_RE.finditer(xml[:2_000_000]))
    if not attrs:
        return "attr:none"
    m = rng.choice(attrs)
    if huge:
        size = rng.choice([1_000, 10_000, 100_000, 1_000_000, 2_000_000])
        value = rng.choice([b"x", b"\xe4\xb8\xad", b"&amp;", b"A1:", b" "]) * (size // 3)
        what = f"huge{size}"
    else:
        value = enc(esc(rng.choice(ATTR_VALUES + [rand_text(rng)[:2000]]), True))
        if rng.random() < 0.1:
            z.set(part, xml[:m.start()] + xml[m.end():])
            return f"attr.drop:{part}:{m.group(2).decode()}"
        what = value[:20].decode("utf-8", "replace")
    z.set(part, xml[:m.start(3)] + value + xml[m.end(3):])
    return f"attr:{part}:{m.group(2).decode()}={what}"


def m_attr_huge(rng, z, ctx):
    return m_attr(rng, z, ctx, huge=True)


def m_nest(rng, z, ctx):
    part = xml_part(rng, z)
    if not part:
        return "nest:none"
    xml = z.get(part)
    elems = elements(xml)
    if not elems:
        return "nest:none"
    s, e, tag = rng.choice(elems)
    depth = rng.choice([100, 1000, 10000, 100000])
    name = rng.choice([b"x", b"c", b"row", b"is", b"t", b"r", b"si", b"v", b"f", local(tag)])
    balanced = rng.random() < 0.8
    inner = xml.find(b">", s) + 1
    if xml[inner - 2:inner] == b"/>":
        inner = e
    nest = b"<" + name + b">" * 1
    z.set(part, xml[:inner] + nest * depth + (b"</" + name + b">") * (depth if balanced else 0) + xml[inner:])
    return f"nest:{part}:{name.decode()}x{depth}{'' if balanced else ':open'}"


def m_doctype(rng, z, ctx):
    part = xml_part(rng, z)
    if not part:
        return "doctype:none"
    xml = z.get(part)
    root = re.search(rb"<[A-Za-z_][^!?][^>]*>|<[A-Za-z]>", xml)
    if not root:
        return "doctype:none"
    kind = rng.choice(["laughs", "external", "parameter", "internal", "unclosed", "quadratic"])
    name = re.match(rb"<([^\s>/]+)", root.group()).group(1)
    if kind == "laughs":
        ents = b'<!ENTITY a0 "lol">' + b"".join(b'<!ENTITY a%d "%s">' % (i, b"&a%d;" % (i - 1) * 10)
                                                for i in range(1, 10))
        use = b"&a9;"
    elif kind == "external":
        ents, use = b'<!ENTITY e SYSTEM "file:///etc/passwd">', b"&e;"
    elif kind == "parameter":
        ents, use = b'<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;', b""
    elif kind == "internal":
        ents, use = b'<!ENTITY t "\xe7\xa1\xae\xe8\xae\xa4\xe6\x97\xa0\xe5\x8f\x98\xe5\x8c\x96">', b"&t;"
    elif kind == "quadratic":
        ents, use = b'<!ENTITY q "' + b"x" * 50_000 + b'">', b"&q;" * 200
    else:
        ents, use = b"<!ENTITY u 'x'", b""
    doctype = b"<!DOCTYPE " + name + b" [" + ents + b"]>"
    at = root.start()
    xml = xml[:at] + doctype + xml[at:]
    if use:
        t = re.search(rb"<(?:\w+:)?(?:t|v)>", xml)
        if t:
            xml = xml[:t.end()] + use + xml[t.end():]
        else:
            xml = xml.replace(b'"1"', b'"' + use + b'"', 1)
    z.set(part, xml)
    return f"doctype.{kind}:{part}"


def m_encoding(rng, z, ctx):
    part = xml_part(rng, z)
    if not part:
        return "enc:none"
    xml = re.sub(rb"^\s*<\?xml[^>]*\?>\s*", b"", z.get(part))
    kind = rng.choice(["utf16", "utf16-lie", "latin1-lie", "gbk", "unknown", "bom", "bom2", "version11", "decl-late"])
    if kind == "utf16":
        body = ('<?xml version="1.0" encoding="UTF-16"?>').encode() + xml
        body = body.decode("utf-8", "replace").encode("utf-16")
    elif kind == "utf16-lie":
        body = b'<?xml version="1.0" encoding="UTF-16"?>' + xml
    elif kind == "latin1-lie":
        body = b'<?xml version="1.0" encoding="ISO-8859-1"?>' + xml
    elif kind == "gbk":
        body = ('<?xml version="1.0" encoding="GBK"?>' + xml.decode("utf-8", "replace")).encode("gbk", "replace")
    elif kind == "unknown":
        body = b'<?xml version="1.0" encoding="x-unknown-42"?>' + xml
    elif kind == "bom":
        body = b"\xef\xbb\xbf" + xml
    elif kind == "bom2":
        body = b"\xef\xbb\xbf\xef\xbb\xbf" + xml
    elif kind == "version11":
        body = b'<?xml version="1.1"?>' + xml
    else:
        body = b"\n \n" + b'<?xml version="1.0"?>' + xml
    z.set(part, body)
    return f"enc.{kind}:{part}"


def m_comment(rng, z, ctx):
    """Comments, processing instructions and CDATA: small, large, or a flood of unterminated tags of the part's
    own element names inside a comment (harmless XML that naive tag-matching regexes choke on)."""
    part = xml_part(rng, z)
    if not part:
        return "comment:none"
    xml = z.get(part)
    names = sorted({local(t) for _, _, t in elements(xml)}) or [b"x"]
    kind = rng.choice(["comment", "pi", "cdata", "flood", "flood"])
    size = rng.choice([10, 1000, 100_000, 1_000_000])
    if kind == "flood":
        token = b"<" + rng.choice(names) + b" "
        body = b"<!-- " + token * (size // len(token) + 1) + b" -->"
    elif kind == "comment":
        body = b"<!--" + b"x" * size + b"-->"
    elif kind == "pi":
        body = b"<?pi " + b"y" * size + b"?>"
    else:
        body = b"<![CDATA[" + b"<z>" * (size // 3) + b"]]>"
    ends = [m.start() for m in re.finditer(rb"</", xml)] or [len(xml)]
    at = rng.choice(ends)
    z.set(part, xml[:at] + body + xml[at:])
    what = body[5:20].decode("utf-8", "replace") if kind == "flood" else ""
    return f"comment.{kind}{size}:{part}{':' + what if what else ''}"


def m_workbook(rng, z, ctx):
    xml = z.get("xl/workbook.xml")
    if xml is None:
        return "wb:none"
    sheets = list(re.finditer(rb"<sheet\b[^>]*/>", xml))
    op = rng.choice(["rename", "rename", "swap_names", "delete", "dup", "rid", "state", "sheetid", "names", "date1904",
                     "activetab", "reorder"])
    if not sheets:
        return "wb:none"
    m = rng.choice(sheets)
    if op == "rename":
        name = rng.choice(["填报 ", "指标", "_meta", "填报", "Sheet1", "", "x" * 10000, "填\x00报", "填报\u200b",
                           "'填报'",
                           "填/报", "填报" * 20, "FILL", "\u586b\u62a5"])
        z.set("xl/workbook.xml", xml[:m.start()] + re.sub(rb'name="[^"]*"', lambda _: b'name="' + enc(esc(name, True))
                                                         + b'"', m.group(), count=1) + xml[m.end():])
        return f"wb.rename:{name[:12]!r}"
    if op == "swap_names" and len(sheets) > 1:
        a, b = sheets[0], sheets[1]
        na, nb = re.search(rb'name="[^"]*"', a.group()).group(), re.search(rb'name="[^"]*"', b.group()).group()
        z.set("xl/workbook.xml", xml[:a.start()] + a.group().replace(na, nb) + xml[a.end():b.start()]
              + b.group().replace(nb, na) + xml[b.end():])
    elif op == "delete":
        z.set("xl/workbook.xml", xml[:m.start()] + xml[m.end():])
    elif op == "dup":
        z.set("xl/workbook.xml", xml[:m.end()] + m.group() * rng.choice([1, 2, 100]) + xml[m.end():])
    elif op == "rid":
        z.set("xl/workbook.xml", xml[:m.start()] + re.sub(rb'r:id="[^"]*"', lambda _: b'r:id="' + enc(rng.choice(
            ["rId99", "", "rId1", "rId4", "rId5", "x" * 1000])) + b'"', m.group()) + xml[m.end():])
    elif op == "state":
        z.set("xl/workbook.xml", xml[:m.start()] + re.sub(rb'state="[^"]*"', lambda _: b'state="' + enc(rng.choice(
            ["hidden", "veryHidden", "visible", "bogus", ""])) + b'"', m.group()) + xml[m.end():])
    elif op == "sheetid":
        z.set("xl/workbook.xml", xml[:m.start()] + re.sub(rb'sheetId="[^"]*"', lambda _: b'sheetId="' + enc(rng.choice(
            ["0", "1", "-1", "abc", "99999999999", ""])) + b'"', m.group()) + xml[m.end():])
    elif op == "names":
        name = rng.choice([b"'\xe5\xa1\xab\xe6\x8a\xa5'!$3:$3", b"'nosuch'!$A$1", b"#REF!", b"", b"!!!", b"A" * 10000,
                           b"'\xe5\xa1\xab\xe6\x8a\xa5'!$A:$A,'x'!$1:$1", b"OFFSET(A1,,,99999)"])
        dn_name = enc(rng.choice(["_xlnm.Print_Titles", "_xlnm.Print_Area", "x", "_xlnm._FilterDatabase", ""]))
        local_id = enc(rng.choice(["0", "1", "9", "-1", "x"]))
        dn = b'<definedName name="' + dn_name + b'" localSheetId="' + local_id + b'">' + name + b"</definedName>"
        if b"<definedNames>" in xml:
            z.set("xl/workbook.xml", xml.replace(b"<definedNames>", b"<definedNames>" + dn, 1))
        else:
            z.set("xl/workbook.xml", xml.replace(b"</sheets>", b"</sheets><definedNames>" + dn + b"</definedNames>", 1))
    elif op == "date1904":
        flag = enc(rng.choice(["1", "true", "x"]))
        z.set("xl/workbook.xml", xml.replace(b"<workbookPr", b'<workbookPr date1904="' + flag + b'"', 1))
    elif op == "activetab":
        tab = enc(rng.choice(["99", "-1", "x", "3"]))
        z.set("xl/workbook.xml", re.sub(rb'activeTab="\d+"', b'activeTab="' + tab + b'"', xml, count=1))
    else:
        z.set("xl/workbook.xml", xml[:sheets[0].start()] + b"".join(s.group() for s in reversed(sheets))
              + xml[sheets[-1].end():])
    return f"wb.{op}"


def m_package(rng, z, ctx):
    """[Content_Types].xml and the relationships."""
    if rng.random() < 0.5:
        part, xml = "[Content_Types].xml", z.get("[Content_Types].xml")
        items = list(re.finditer(rb"<(?:Override|Default)\b[^>]*/>", xml or b""))
    else:
        part = rng.choice(["xl/_rels/workbook.xml.rels", "_rels/.rels"])
        xml = z.get(part)
        items = list(re.finditer(rb"<Relationship\b[^>]*/>", xml or b""))
    if not items:
        return "pkg:none"
    m = rng.choice(items)
    op = rng.choice(["delete", "dup", "type", "target", "target", "id", "mode"])
    item = m.group()
    if op == "delete":
        new = b""
    elif op == "dup":
        new = item * 2
    elif op == "type":
        new = re.sub(rb'(ContentType|Type)="[^"]*"', lambda x: x.group(1) + b'="' + enc(rng.choice(
            ["application/vnd.ms-excel.sheet.macroEnabled.main+xml", "text/plain", "", "application/xml",
             CT_SST.decode(), "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml",
             REL_SST.decode()])) + b'"', item, count=1)
    elif op == "target":
        new = re.sub(rb'(PartName|Target|Extension)="[^"]*"', lambda x: x.group(1) + b'="' + enc(rng.choice(
            ["/xl/worksheets/sheet9.xml", "", "../../../../etc/passwd", "http://127.0.0.1:9/x.xml", "sheet1.xml",
             "/XL/WORKSHEETS/SHEET1.XML", "xl/worksheets/sheet1.xml", "worksheets/sheet2.xml", "/", "xml", "rels",
             "\\xl\\workbook.xml", "file:///etc/passwd", "x" * 5000])) + b'"', item, count=1)
    elif op == "id":
        rid = enc(rng.choice(["rId1", "rId2", "", "x"]))
        new = re.sub(rb'Id="[^"]*"', lambda _: b'Id="' + rid + b'"', item, count=1)
    else:
        new = item.replace(b"/>", b' TargetMode="External"/>')
    z.set(part, xml[:m.start()] + new + xml[m.end():])
    return f"pkg.{op}:{part}"


def m_styles(rng, z, ctx):
    xml = z.get("xl/styles.xml")
    if xml is None:
        return "styles:none"
    op = rng.choice(["drop_xfs", "count", "numfmt", "xf_ids", "drop_fonts", "dxf", "empty"])
    if op == "drop_xfs":
        xml = re.sub(rb"<cellXfs\b.*?</cellXfs>", b"", xml, flags=re.S)
    elif op == "count":
        count = enc(rng.choice(["0", "-1", "99999999999", "x"]))
        xml = re.sub(rb'count="\d+"', lambda _: b'count="' + count + b'"', xml)
    elif op == "numfmt":
        code = rng.choice(["yyyy-mm-dd", "[h]:mm:ss", "x" * 10000, "", '"\\"', "[Red][<0]0;0", "0" * 500, "@@@"])
        fmt_id = rng.choice(["0", "14", "164", "-1", "99999", "x"])
        xml = re.sub(rb"(<styleSheet\b[^>]*>)", lambda x: x.group(1) + b'<numFmts count="1"><numFmt numFmtId="'
                     + enc(fmt_id) + b'" formatCode="' + enc(esc(code, True)) + b'"/></numFmts>', xml, count=1)
    elif op == "xf_ids":
        xml = re.sub(rb'(numFmtId|fontId|fillId|borderId|xfId)="\d+"', lambda x: x.group(1) + b'="' + enc(rng.choice(
            ["9999", "-1", "x", "14", "0"])) + b'"', xml, count=rng.choice([1, 5, 0]))
    elif op == "drop_fonts":
        xml = re.sub(rb"<fonts\b.*?</fonts>", b"", xml, flags=re.S)
    elif op == "dxf":
        xml = xml.replace(b"</styleSheet>", b'<dxfs count="1"><dxf><font><b val="x"/></font></dxf></dxfs></styleSheet>')
    else:
        xml = b'<styleSheet xmlns="' + NS_MAIN + b'"/>'
    z.set("xl/styles.xml", xml)
    return f"styles.{op}"


def m_shared(rng, z, ctx):
    """Shared strings: out-of-range indices, rich text, edits of the table itself."""
    if z.get(SST) is None:
        if any(z.get(n) is None for n in (SHEET1, SHEET2, SHEET3, "[Content_Types].xml", "xl/_rels/workbook.xml.rels")):
            return "sst:none"
        z.parts = to_shared_strings(z).parts
    sst = z.get(SST)
    sis = of_kind(sst, b"si")
    op = rng.choice(["index", "index", "edit", "drop", "rich", "count", "phonetic"])
    if op == "index":
        xml = z.get(SHEET1)
        refs = list(re.finditer(rb'(<c\b[^>]*t="s"[^>]*><v>)(\d+)(</v>)', xml))
        if not refs:
            return "sst:none"
        m = rng.choice(refs)
        value = rng.choice([str(len(sis)), str(len(sis) + 1), "-1", "999999999", "", "1.5", "0", "1e2", "abc"])
        z.set(SHEET1, xml[:m.start(2)] + enc(value) + xml[m.end(2):])
        return f"sst.index:{value}"
    if not sis:
        return "sst:none"
    s, e, _ = rng.choice(sis)
    if op == "edit":
        new = b'<si><t xml:space="preserve">' + xml_text(rng, rand_text(rng)) + b"</t></si>"
    elif op == "drop":
        new = b""
    elif op == "rich":
        text = xml_text(rng, rand_text(rng))
        new = b'<si><r><rPr><b/><rFont val="x"/></rPr><t>' + text + b"</t></r><r><t/></r></si>"
    elif op == "phonetic":
        new = b"<si><t>abc</t><rPh sb=\"0\" eb=\"99\"><t>" + b"x" * 1000 + b"</t></rPh><phoneticPr fontId=\"99\"/></si>"
    else:
        z.set(SST, re.sub(rb'(count|uniqueCount)="\d+"', lambda x: x.group(1) + b'="' + enc(rng.choice(
            ["0", "-1", "99999999999", "x"])) + b'"', sst))
        return "sst.count"
    z.set(SST, sst[:s] + new + sst[e:])
    return f"sst.{op}"


RENAMES = ["xl/worksheets/sheet1.XML", "xl/worksheets/Sheet1.xml", "xl/worksheets/sheet1.bin", "xl/worksheets/sheet1",
           "xl/worksheets/a b.xml", "xl/工作表.xml", "/xl/worksheets/sheet1.xml", "xl\\worksheets\\sheet1.xml",
           "xl/worksheets/sheet1.xml.bak", "XL/WORKBOOK.XML"]


def rename_part(z: Zip, old: str, new: str, consistent: bool) -> None:
    for p in z.parts:
        if p[0] == old:
            p[0] = new
    if consistent:
        rel_old, rel_new = old.split("/", 1)[-1].encode(), new.split("/", 1)[-1].encode()
        for p in z.parts:
            if p[0].endswith((".rels", "[Content_Types].xml")):
                p[1] = p[1].replace(b"/" + old.encode(), b"/" + new.encode()).replace(b'"' + rel_old + b'"',
                                                                                      b'"' + rel_new + b'"')


def m_zip(rng, z, ctx):
    names = z.names()
    op = rng.choice(["drop", "drop", "dup", "rename", "rename_consistent", "reorder", "stored", "junk", "dirs",
                     "traversal", "case", "mimetype", "xlsb", "word", "nested", "bzip2", "lzma"])
    name = rng.choice(names)
    if op == "drop":
        z.parts = [p for p in z.parts if p[0] != name]
    elif op == "dup":
        body = z.get(name)
        copy = rng.choice([body, body[: len(body) // 2], b"", b"<x/>"])
        z.parts.insert(rng.randrange(len(z.parts) + 1), [name, copy])
    elif op in ("rename", "rename_consistent"):
        new = rng.choice(RENAMES + [name.upper(), name + "x", name.replace(".xml", ".rels")])
        rename_part(z, name if op == "rename" else rng.choice([n for n in names if n.startswith("xl/")] or names), new,
                    op == "rename_consistent")
        return f"zip.{op}:{name}->{new}"
    elif op == "reorder":
        rng.shuffle(z.parts)
    elif op == "stored":
        z.method = zipfile.ZIP_STORED
    elif op == "junk":
        for i in range(rng.choice([1, 5, 50])):
            z.parts.append([rng.choice([f"xl/media/image{i}.png", f"junk/{i}", f"xl/worksheets/sheet{i + 9}.xml",
                                        f"customXml/item{i}.xml"]), rng.randbytes(rng.choice([0, 10, 1000]))])
    elif op == "dirs":
        z.parts.insert(0, ["xl/", b""])
        z.parts.insert(0, ["xl/worksheets/", b""])
    elif op == "traversal":
        name = rng.choice(["../../evil.xml", "/etc/evil.xml", "xl/../../x.xml", "C:\\x.xml", "xl/\u202eevil.xml"])
        z.parts.append([name, b"<x/>"])
    elif op == "case":
        z.parts.append([name.upper(), z.get(name)])
    elif op == "mimetype":
        mime = rng.choice([b"application/vnd.oasis.opendocument.spreadsheet", b"",
                           b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"])
        z.parts.insert(0, ["mimetype", mime])
    elif op == "xlsb":
        z.parts.append(["xl/workbook.bin", b"\x83\x01\x00"])
    elif op == "word":
        z.parts.append(["word/document.xml", b"<w:document/>"])
    elif op == "nested":
        z.parts.append(["xl/embeddings/inner.xlsx", z.dump()])
    elif op == "bzip2":
        z.method = zipfile.ZIP_BZIP2
    else:
        z.method = zipfile.ZIP_LZMA
    return f"zip.{op}:{name}"


STRUCTURE = [  # weight, mutation
    (14, m_cell_value), (5, m_indicator_cell), (4, m_text_edit), (5, m_hidden_cells), (3, m_meta),
    (4, m_forge_identity), (6, m_forge_row), (5, m_invisible), (4, m_cell_ref), (5, m_rows), (4, m_merge),
    (2, m_date_style),
    (7, m_xml_bytes), (8, m_element), (7, m_attr), (2, m_attr_huge), (3, m_nest), (2, m_doctype), (2, m_encoding),
    (3, m_comment), (4, m_workbook), (3, m_package), (3, m_styles), (4, m_shared), (6, m_zip),
]


# -- whole-file byte mutations --------------------------------------------------------------------------------

INTERESTING = [0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0xFFFFFFFF, 0x7FFFFFFF, 8, 12, 14, 99, 9, 6]


def b_mutate(rng: random.Random, data: bytes, ctx) -> tuple[str, bytes]:
    data = bytearray(data)
    op = rng.choice(["flip", "flip", "overwrite", "truncate", "truncate", "insert", "delete", "dupchunk", "header",
                     "header", "append", "prepend", "splice"])
    n = len(data)
    if op == "flip":
        for _ in range(rng.choice([1, 2, 8, 50])):
            data[rng.randrange(n)] ^= 1 << rng.randrange(8)
    elif op == "overwrite":
        i = rng.randrange(n)
        data[i:i + 4] = rng.randbytes(rng.choice([1, 2, 4]))
    elif op == "truncate":
        data = data[:rng.choice([rng.randrange(n), n - 1, n - 22, 30, 4, 2, n // 2])]
    elif op == "insert":
        i = rng.randrange(n + 1)
        data[i:i] = rng.randbytes(rng.choice([1, 10, 1000]))
    elif op == "delete":
        i = rng.randrange(n)
        del data[i:i + rng.choice([1, 10, 1000])]
    elif op == "dupchunk":
        i = rng.randrange(n)
        data[i:i] = data[i:i + rng.choice([10, 100, 4096])]
    elif op == "header":  # a field of a local header, central directory entry or the end record
        sigs = [(m.start(), m.group()) for m in re.finditer(rb"PK\x03\x04|PK\x01\x02|PK\x05\x06", bytes(data))]
        if sigs:
            at, sig = rng.choice(sigs)
            fields = {b"PK\x03\x04": [(4, 2), (6, 2), (8, 2), (14, 4), (18, 4), (22, 4), (26, 2), (28, 2)],
                      b"PK\x01\x02": [(4, 2), (6, 2), (8, 2), (10, 2), (16, 4), (20, 4), (24, 4), (28, 2), (30, 2),
                                       (34, 2), (42, 4)],
                      b"PK\x05\x06": [(8, 2), (10, 2), (12, 4), (16, 4), (20, 2)]}[sig]
            off, width = rng.choice(fields)
            value = rng.choice(INTERESTING + [rng.randrange(1 << (8 * width))]) & ((1 << (8 * width)) - 1)
            data[at + off:at + off + width] = value.to_bytes(width, "little")
            op = f"header{sig[2]}+{off}={value}"
    elif op == "append":
        data += rng.choice([rng.randbytes(rng.choice([1, 100, 5000])), b"PK\x05\x06" + b"\x00" * 18, bytes(data)])
    elif op == "prepend":
        data[0:0] = rng.choice([b"MZ" + rng.randbytes(100), b"\xef\xbb\xbf", b" ", rng.randbytes(1000)])
    else:
        other = rng.choice(list(ctx.seeds.values()))
        i, j = rng.randrange(n), rng.randrange(len(other))
        data = data[:i] + other[j:]
    return f"bytes.{op}", bytes(data)


# -- whole files that are not xlsx ---------------------------------------------------------------------------

@dataclass
class Sparse:
    size: int
    head: bytes


def nonzip(rng: random.Random, ctx) -> tuple[str, bytes | Sparse]:
    kind = rng.choice(["empty", "random", "random", "pk", "pkhead", "csv", "csv_gbk", "csv_bom", "html", "xml2003",
                       "ole2", "ods", "odt", "xlsb", "docx", "zip_other", "zip_empty", "huge", "gzip", "pdf", "utf16",
                       "text_pk", "rar"])
    text = "行号,改革措施,状态,完成度\nT2,1.坚持和加强党的全面领导,正常推进,80\n"
    if kind == "empty":
        return kind, b""
    if kind == "random":
        return kind, rng.randbytes(rng.choice([1, 2, 22, 100, 4096, 100_000]))
    if kind == "pk":
        return kind, rng.choice([b"P", b"PK", b"PK\x03", b"PK\x03\x04", b"PK\x05\x06" + b"\x00" * 18])
    if kind == "pkhead":
        return kind, b"PK\x03\x04" + rng.randbytes(rng.choice([10, 100, 10_000]))
    if kind == "csv":
        return kind, text.encode("utf-8")
    if kind == "csv_gbk":
        return kind, text.encode("gbk")
    if kind == "csv_bom":
        return kind, b"\xef\xbb\xbf" + text.encode("utf-8")
    if kind == "utf16":
        return kind, text.encode("utf-16")
    if kind == "html":
        head = rng.choice([b"<!DOCTYPE html>", b"<html>", b"  <HTML>"])
        return kind, head + "<table><tr><td>正常推进</td></tr></table>".encode()
    if kind == "xml2003":
        return kind, (b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">'
                      b"<Worksheet/></Workbook>")
    if kind == "ole2":
        return kind, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + rng.randbytes(rng.choice([0, 504, 4096]))
    if kind in ("ods", "odt"):
        mime = b"application/vnd.oasis.opendocument." + (b"spreadsheet" if kind == "ods" else b"text")
        z = Zip([("mimetype", mime), ("content.xml", b"<office:document-content/>"),
                 ("META-INF/manifest.xml", b"<m/>")], zipfile.ZIP_STORED)
        return kind, z.dump()
    if kind == "xlsb":
        z = ctx.zips[rng.choice(list(ctx.zips))].copy()
        rename_part(z, "xl/workbook.xml", "xl/workbook.bin", True)
        return kind, z.dump()
    if kind == "docx":
        return kind, Zip([("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w:document/>")]).dump()
    if kind == "zip_other":
        return kind, Zip([(f"file{i}.txt", rng.randbytes(100)) for i in range(rng.choice([1, 5]))]).dump()
    if kind == "zip_empty":
        return kind, Zip([]).dump()
    if kind == "huge":
        return kind, Sparse(ctx.max_file + rng.choice([1, 1 << 20]), ctx.seeds["filledA"])
    if kind == "gzip":
        import gzip

        return kind, gzip.compress(ctx.seeds["rawA"])
    if kind == "pdf":
        return kind, b"%PDF-1.7\n" + rng.randbytes(200)
    if kind == "rar":
        return kind, rng.choice([b"Rar!\x1a\x07\x00", b"7z\xbc\xaf\x27\x1c"]) + rng.randbytes(100)
    return kind, b"PK is what this text starts with, but it is a note." + text.encode()


# -- probes at the bounds of return_file -----------------------------------------------------------------------

def flood(z: Zip, part: str, what: str, size: int, ctx) -> str:
    """Make `part` about `size` bytes with one kind of filler (or, for unclosed, add `size` bytes of it)."""
    xml = z.get(part)
    need = max(size - len(xml), 0)
    if what == "space":
        filler, at = b" " * need, xml.rfind(b"</")
    elif what == "comment":
        filler, at = b"<!--" + b"x" * need + b"-->", xml.rfind(b"</")
    elif what == "attr":
        m = re.search(rb"<(?:\w+:)?c\b", xml) or re.search(rb"<[A-Za-z]", xml)
        at = m.end()
        filler = b' x="' + b"y" * need + b'"'
    elif what == "nest":
        depth = need // 7
        m = re.search(rb"<(?:\w+:)?c\b[^>]*>", xml) if part.startswith("xl/worksheets") else None
        at = m.end() if m and not m.group().endswith(b"/>") else xml.rfind(b"</")
        filler = b"<x>" * depth + b"</x>" * depth
    elif what.startswith("text:"):  # one cell's text: non-printable astral characters (4 bytes each, long reprs)
        ref = what.split(":", 1)[1]
        z.set(part, set_cell(xml, ref, inline(ref, "\U000f0000\U000e0001" * (need // 8))))
        return f"{part}:{what}:{len(z.get(part)) >> 20}MB"
    elif what == "printtitles":  # a long print-titles defined name (openpyxl parses it with a regex)
        at = xml.find(b"</definedName>")
        filler = b"x" * size
    elif what.startswith("merge:"):
        unit = b'<mergeCell ref="' + what.split(":", 1)[1].encode() + b'"/>'
        filler, at = unit * (size // len(unit)), xml.find(b"<mergeCells")
        filler = b'<mergeCells count="1">' + filler + b"</mergeCells>" if at < 0 else filler
        at = xml.find(b"</sheetData>") + len(b"</sheetData>") if at < 0 else xml.find(b">", at) + 1
    elif what.startswith("unclosed:"):
        token = b"<" + what.split(":", 1)[1].encode() + b" "
        filler, at = b"<!-- " + token * (size // len(token)) + b"-->", xml.rfind(b"</")
    else:  # dup:<tag> — one element of that kind repeated
        tag = what.split(":", 1)[1].encode()
        spans = of_kind(xml, tag)
        if tag == b"c":  # a cell of the first data row, repeated within that row
            spans = [s for s in spans if b'r="F4"' in xml[s[0]:s[0] + 40]] or spans
        if not spans:
            return f"{what}:absent"
        s, e, _ = spans[-1] if tag == b"si" else spans[0]
        unit = xml[s:e]
        filler, at = unit * max(need // len(unit), 1), e
    z.set(part, xml[:at] + filler + xml[at:])
    return f"{part}:{what}:{len(z.get(part)) >> 20}MB"


PROBES = [  # (seed, part, what, size as a fraction of MAX_PART_BYTES or bytes, rename to)
    ("rawA", SHEET1, "dup:c", 0.95, None),
    ("rawA", SHEET1, "dup:mergeCell", 0.95, None),
    ("rawA", SHEET1, "merge:F4:G5", 100_000, None),
    ("rawA", SHEET1, "unclosed:mergeCell", 1_000_000, None),
    ("rawA", SHEET1, "attr", 0.95, None),
    ("rawA", SHEET1, "comment", 0.95, None),
    ("rawA", SHEET1, "dup:row", 0.95, None),
    ("sstA", SST, "dup:si", 0.95, None),
    ("rawA", SHEET1, "nest", 0.95, None),
    ("rawA", "xl/styles.xml", "dup:xf", 0.95, None),
    ("rawA", "xl/workbook.xml", "dup:sheet", 0.95, None),
    ("rawA", "xl/workbook.xml", "dup:definedName", 0.95, None),
    ("rawA", "xl/workbook.xml", "printtitles", 60_000, None),
    ("rawA", "xl/_rels/workbook.xml.rels", "dup:Relationship", 0.95, None),
    ("rawA", "[Content_Types].xml", "dup:Override", 0.95, None),
    ("rawA", SHEET2, "dup:dataValidation", 0.95, None),
    ("rawA", SHEET2, "text:F4", 0.95, None),
    ("rawA", SHEET1, "dup:c", 1.5, "xl/worksheets/sheet1.bin"),
    ("sstA", SST, "dup:si", 1.5, "xl/strings.bin"),
    ("rawA", SHEET1, "space", 1.1, None),
    ("rawA", SHEET1, "identity:deep-json", 0, None),
    ("rawA", SHEET1, "identity:period-0000Q1", 0, None),
    ("rawA", SHEET1, "doctype:laughs", 0, None),
    ("rawA", None, "parts:many", 0, None),
    ("rawA", None, "parts:total", 0, None),
    ("rawA", SHEET1, "token:non-ascii", 0, None),
    ("rawA", SHEET1, "signature:non-ascii", 0, None),
    ("filledA", SHEET1, "reporter:invisible", 0, None),
    ("rawA", None, "zip:version", 0, None),
    ("rawA", SHEET1, "header:long", 0, None),
]
PROBE_STRIDE = 1000 // len(PROBES)  # input i is a probe when i % stride == stride // 2 (spread over a run)


def probe(index: int, ctx) -> tuple[str, bytes] | None:
    if ctx.no_probes or index % PROBE_STRIDE != PROBE_STRIDE // 2 or index // PROBE_STRIDE >= len(PROBES):
        return None
    k, half = index // PROBE_STRIDE, (len(PROBES) + 1) // 2
    seed, part, what, size, rename = PROBES[(k % 2) * half + k // 2]  # interleaved: heavy ones in both halves
    z = ctx.zips[seed].copy()
    if what == "identity:deep-json":
        z.set(SHEET1, set_cell(z.get(SHEET1), "A1", inline("A1", "[" * 100_000)))
        desc = what
    elif what == "identity:period-0000Q1":
        ident = seed_identity(ctx, z)
        new = ctx.mods.Identity(ident.plan, ident.department, "0000Q1", ident.uid, ident.version)
        xml = set_cell(z.get(SHEET1), "A1", inline("A1", new.text()))
        z.set(SHEET1, set_cell(xml, "A2", inline("A2", new.signature(ctx.key))))
        sync_meta(z, new)
        desc = what
    elif what == "token:non-ascii":  # a row token whose signature has one non-ASCII character
        ident = seed_identity(ctx, z)
        xml = z.get(SHEET1)
        row_key = cell_text(z, xml, cell_span(xml, "A4"))
        token = ctx.mods.row_token(ctx.key, ident, row_key, None, ["", None, "", "", "", ""])
        z.set(SHEET1, set_cell(xml, "M4", inline("M4", token[:-1] + "中")))
        desc = what
    elif what == "signature:non-ascii":  # the identity's signature cell with one non-ASCII character
        xml = z.get(SHEET1)
        signature = cell_text(z, xml, cell_span(xml, "A2"))
        z.set(SHEET1, set_cell(xml, "A2", inline("A2", signature[:-1] + "中")))
        desc = what
    elif what == "reporter:invisible":  # 填报人 of a filled row made of characters clean_text removes
        xml = z.get(SHEET1)
        # 李老师, as UTF-8 or as a character reference (openpyxl writes those when lxml is installed)
        m = re.search(rb'<c r="K(\d+)"[^>]*t="inlineStr"><is><t[^>]*>(?:\xe6\x9d\x8e|&#26446;)', xml)
        r = m.group(1).decode()
        z.set(SHEET1, set_cell(xml, f"K{r}", inline(f"K{r}", "\u202e\ufeff")))
        desc = what
    elif what == "zip:version":  # "version needed to extract" 14.8 in the central directory
        data = bytearray(z.dump())
        at = data.find(b"PK\x01\x02")
        data[at + 6:at + 8] = (148).to_bytes(2, "little")
        return "probe." + what, bytes(data)
    elif what == "header:long":  # a header cell of 100,000 characters
        z.set(SHEET1, set_cell(z.get(SHEET1), "H3", inline("H3", "工作进展" * 25_000)))
        desc = what
    elif what == "doctype:laughs":
        xml = z.get(SHEET1)
        ents = b'<!ENTITY a0 "lolololololololololo">' + b"".join(
            b'<!ENTITY a%d "%s">' % (i, b"&a%d;" % (i - 1) * 10) for i in range(1, 10))
        xml = b"<!DOCTYPE worksheet [" + ents + b"]>" + xml
        z.set(SHEET1, set_cell(xml, "H4", b'<c r="H4" t="inlineStr"><is><t>&a9;</t></is></c>'))
        desc = what
    elif what == "parts:many":
        z.parts += [[f"customXml/item{i}.xml", b"<x/>"] for i in range(ctx.max_parts + 1)]
        desc = f"{what}:{len(z.parts)}"
    elif what == "parts:total":
        each = int(ctx.max_part * 0.9)
        z.parts += [[f"customXml/item{i}.xml", b"<x>" + b" " * each + b"</x>"]
                    for i in range(ctx.max_parts_bytes // each + 1)]
        desc = f"{what}:{z.size() >> 20}MB"
    else:
        size = int(size * ctx.max_part) if size < 100 else int(size)
        desc = flood(z, part, what, size, ctx)
        if rename:
            rename_part(z, part, rename, True)
            desc += f":renamed {rename}"
    return "probe." + desc, z.dump()


# -- one input -------------------------------------------------------------------------------------------------

def make_input(rng: random.Random, index: int, ctx) -> tuple[str, bytes | Sparse]:
    found = probe(index, ctx)
    if found:
        return found
    r = rng.random()
    if r < 0.07:
        kind, data = nonzip(rng, ctx)
        return "file." + kind, data
    seed = rng.choice(list(ctx.zips))
    if r < 0.22:
        kind, data = b_mutate(rng, ctx.seeds[seed], ctx)
        return f"{seed}|{kind}", data
    z = ctx.zips[seed].copy()
    steps = [seed]
    weights = [w for w, _ in STRUCTURE]
    for _ in range(rng.choices([1, 2, 3], [70, 20, 10])[0]):
        fn = rng.choices([f for _, f in STRUCTURE], weights)[0]
        steps.append(fn(rng, z, ctx))
    data = z.dump()
    if rng.random() < 0.05:
        kind, data = b_mutate(rng, data, ctx)
        steps.append(kind)
    return "|".join(steps), data


NAMES = ["fuzz-{i}.xlsx", "区教委-2026Q3-进展填报 ({i}).xlsx", "{i}", "fuzz {i} 😀.XLSX", "-{i}.xlsx"]


def write_input(folder: Path, rng: random.Random, index: int, data) -> Path:
    path = folder / rng.choice(NAMES).format(i=index)
    if isinstance(data, Sparse):
        with open(path, "wb") as fh:
            fh.write(data.head)
            fh.truncate(data.size)
    else:
        path.write_bytes(data)
    return path


# -- checks ------------------------------------------------------------------------------------------------------

LATIN_OK = {"Excel", "WPS", "LibreOffice", "OpenDocument", "HTML", "CSV", "xlsx", "xls", "xlsb", "ods", "odt", "odp",
            "et", "Word", "MB", "T", "I"}


def english(message: str, file_name: str) -> list[str]:
    """Latin words in a message that are not product names, file-supplied quoted values or cell references."""
    text = message[len(file_name):] if message.startswith(file_name) else message
    text = text.replace(file_name, "")
    text = re.sub(r"“[^”]*”", "", text, flags=re.S)
    text = re.sub(r"\$?[A-Z]{1,3}\$?\d+(:\$?[A-Z]{1,3}\$?\d+)?", "", text)
    text = re.sub(r"[A-M](?=列)", "", text)
    return [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in LATIN_OK]


def db_counts(db) -> dict[str, int]:
    with db.engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT (SELECT count(*) FROM progress_report), (SELECT count(*) FROM indicator_value),"
            " (SELECT count(*) FROM import_batch), (SELECT count(*) FROM audit_event),"
            " (SELECT count(*) FROM (SELECT 1 FROM progress_report WHERE is_current AND NOT deleted"
            "  GROUP BY yearly_target_id, period, department_id HAVING count(*) > 1))").one()
    return dict(zip(("reports", "values", "batches", "audit", "duplicate_current"), row))


def integrity(db) -> list[str]:
    with db.engine.connect() as conn:
        problems = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").all() if r[0] != "ok"]
        problems += [str(tuple(r)) for r in conn.exec_driver_sql("PRAGMA foreign_key_check").all()]
    return problems


@dataclass
class Run:
    seed: int
    failures: list = field(default_factory=list)
    english: list = field(default_factory=list)
    slowest: tuple = (0.0, None, "")
    peak_kb: int = 0
    peaks: list = field(default_factory=list)
    outcomes: dict = field(default_factory=dict)
    kinds: dict = field(default_factory=dict)
    digest: object = field(default_factory=hashlib.sha256)
    log: object = None
    save: Path | None = None
    probes: list = field(default_factory=list)

    def fail(self, index, kind, stage, error, tb="", seconds=None, data=None):
        record = {"index": index, "seed": self.seed, "kind": kind, "stage": stage, "error": error[:500],
                  "traceback": tb[-4000:], "seconds": None if seconds is None else round(seconds, 2)}
        self.failures.append(record)
        if self.log:
            self.log.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.log.flush()
        if self.save is not None and isinstance(data, bytes):
            self.save.mkdir(parents=True, exist_ok=True)
            (self.save / f"seed{self.seed}-input{index}.xlsx").write_bytes(data)


def timed(fn):
    """fn() under the SIGALRM watchdog; returns (result, exception, traceback text, seconds)."""
    start = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, LIMIT_S)
    try:
        result = fn()
        error, tb = None, ""
    except BaseException as exc:  # noqa: BLE001 — every exception is a finding, Hang included
        result, error, tb = None, exc, traceback.format_exc()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return result, error, tb, time.perf_counter() - start


def run_one(index: int, ctx, run: Run, folder: Path) -> None:
    m = ctx.mods
    rng = random.Random(f"{run.seed}/{index}")
    try:
        kind, data = make_input(rng, index, ctx)
    except Exception as exc:  # a bug of this worker, not of the importer; reported all the same
        run.fail(index, "generator", "generator", f"{type(exc).__name__}: {exc}", traceback.format_exc())
        return
    group = kind.split("|")[1].split(":")[0].split(".")[0] if "|" in kind else kind.split(".")[0]
    run.kinds[group] = run.kinds.get(group, 0) + 1
    run.digest.update(data.head + str(data.size).encode() if isinstance(data, Sparse) else data)
    path = write_input(folder, rng, index, data)
    (folder.parent / "fuzz-current.json").write_text(json.dumps({"index": index, "kind": kind}, ensure_ascii=False))
    if _rss_kb() > 250 * 1024:
        import gc

        gc.collect()
        _trim()
    reset = _reset_hwm()
    baseline = _rss_kb()
    faulthandler.dump_traceback_later(HARD_LIMIT_S, exit=True)
    total = 0.0
    try:
        def read():
            with ctx.db.sessions() as session:
                return m.read_return(session, path, TODAY)

        preview, error, tb, seconds = timed(read)
        total += seconds
        if error is not None:
            stage = "hang" if isinstance(error, Hang) else "read"
            run.fail(index, kind, stage, f"{type(error).__name__}: {error}", tb, seconds, data)
            return
        if not isinstance(preview, m.ImportPreview) or not all(isinstance(e, str) for e in preview.errors):
            run.fail(index, kind, "read", f"read_return returned {type(preview).__name__}", "", seconds, data)
            return
        for message in preview.errors[:50]:
            words = english(message, path.name)
            if words:
                run.english.append({"index": index, "kind": kind, "words": words[:5], "message": message[:300]})
                run.fail(index, kind, "english", f"English in a file-level message: {words[:5]}: {message[:300]}",
                         data=data)
                break
        if len(preview.errors) > MAX_ERRORS or any(len(e) > MAX_MESSAGE for e in preview.errors):
            run.fail(index, kind, "unbounded", f"{len(preview.errors)} file-level messages, longest "
                     f"{max(map(len, preview.errors))} characters", data=data)
        outcome = "refused" if preview.errors else "rows_error" if not preview.ok else "ok"
        run.outcomes[outcome] = run.outcomes.get(outcome, 0) + 1

        before = db_counts(ctx.db)

        def write():
            with ctx.db.sessions.begin("导入") as session:
                return m.commit(session, [preview], "模糊测试", TODAY)

        summary, error, tb, seconds = timed(write)
        total += seconds
        after = db_counts(ctx.db)
        if not preview.ok:
            if error is None:
                run.fail(index, kind, "commit", "commit accepted a preview with errors", "", seconds, data)
            elif not isinstance(error, m.ProgressError):
                run.fail(index, kind, "hang" if isinstance(error, Hang) else "commit",
                         f"{type(error).__name__}: {error}", tb, seconds, data)
            if after != before:
                run.fail(index, kind, "partial-write", f"refused commit changed the database: {before} -> {after}",
                         "", seconds, data)
        elif error is not None:
            run.fail(index, kind, "hang" if isinstance(error, Hang) else "commit",
                     f"commit of an accepted preview raised {type(error).__name__}: {error}", tb, seconds, data)
            if after != before:
                run.fail(index, kind, "partial-write", f"failed commit changed the database: {before} -> {after}",
                         "", seconds, data)
        else:
            run.outcomes["committed"] = run.outcomes.get("committed", 0) + 1
            expected = dict(before)
            expected["reports"] += summary.reports_added + summary.reports_corrected
            expected["values"] += summary.values_added
            expected["batches"] += 0 if summary.skipped_files else 1
            expected["audit"] += summary.reports_added + summary.reports_corrected + summary.values_added
            problems = [f"{k}: {before[k]} -> {after[k]}, expected {expected[k]}"
                        for k in expected if after[k] != expected[k]]
            if not summary.skipped_files:
                problems += check_imported(ctx, preview)
                if summary.reports_added or summary.reports_corrected or summary.values_added:
                    problems += integrity(ctx.db)
            if problems:
                run.fail(index, kind, "consistency", "; ".join(problems)[:500], "", seconds, data)
        if total > LIMIT_S:
            run.fail(index, kind, "hang", f"took {total:.1f} s", "", total, data)
    finally:
        faulthandler.cancel_dump_traceback_later()
        if total > run.slowest[0]:
            run.slowest = (total, index, kind)
        peak = _hwm_kb()
        if kind.startswith("probe."):
            run.probes.append({"index": index, "kind": kind, "s": round(total, 2), "peak_mb": peak // 1024})
        run.peak_kb = max(run.peak_kb, peak)
        if reset:
            run.peaks.append((peak, index, kind))
            run.peaks = sorted(run.peaks, reverse=True)[:5]
            if peak > RSS_LIMIT_MB * 1024 and peak - baseline > 32 * 1024:
                run.fail(index, kind, "memory", f"peak RSS {peak // 1024} MB while reading this input (from "
                         f"{baseline // 1024} MB)", "", None, data)
        path.unlink(missing_ok=True)


def check_imported(ctx, preview) -> list[str]:
    """Every imported row is now the current report (or a value) with what the preview showed."""
    m = ctx.mods
    problems = []
    with ctx.db.sessions() as s:
        for row in preview.rows:
            if row.kind not in (m.NEW, m.CHANGED):
                continue
            if row.indicator_id is not None:
                found = s.scalar(m.select(m.func.count()).select_from(m.IndicatorValue).where(
                    m.IndicatorValue.indicator_id == row.indicator_id, m.IndicatorValue.value == row.value,
                    m.IndicatorValue.deleted.is_(False)))
                if not found:
                    problems.append(f"value of indicator {row.indicator_id} not stored")
                continue
            current = s.scalars(m.select(m.ProgressReport).join(m.Department).where(
                m.ProgressReport.yearly_target_id == row.target_id, m.ProgressReport.period == preview.period,
                m.Department.name == preview.department, m.ProgressReport.is_current.is_(True),
                m.ProgressReport.deleted.is_(False))).all()
            r = row.report
            if len(current) != 1:
                problems.append(f"target {row.target_id}: {len(current)} current reports")
            elif (current[0].status, current[0].done, current[0].reporter) != (r.status, r.done.strip(),
                                                                               r.reporter.strip()):
                problems.append(f"target {row.target_id}: stored report differs from the preview")
    return problems


# -- setup ---------------------------------------------------------------------------------------------------------

def setup(data_dir: Path) -> Ctx:
    os.environ["QJGB_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    for var in ("QJGB_DATABASE_URL", "QJGB_STARTUP_PROBE"):
        os.environ.pop(var, None)
    sys.path.insert(0, str(ROOT))
    from qjgb_desktop import paths

    paths.set_data_dir(data_dir)
    from openpyxl import load_workbook
    from sqlalchemy import func, select

    from qjgb_desktop.domain.validation import ReportInput
    from qjgb_desktop.services.collection import return_file
    from qjgb_desktop.services.collection import templates as excel_template
    from qjgb_desktop.services.collection.commit import commit
    from qjgb_desktop.services.collection.returns import CHANGED, NEW, ImportPreview, read_return
    from qjgb_desktop.services.collection.templates import Identity, row_token, write_template
    from qjgb_desktop.services.progress import reports as svc
    from qjgb_desktop.services.progress.reports import ProgressError
    from qjgb_desktop.services.safety.database import open_database
    from qjgb_desktop.store.models import Department, Indicator, IndicatorValue, ProgressReport, Setting, YearlyTarget

    db = open_database()
    with db.sessions.begin() as s:
        s.get(Setting, "template_key").value = KEY
        uids = iter(f"{i:016x}" for i in range(1, 1 << 20))
        excel_template.secrets = SimpleNamespace(token_hex=lambda n=8: next(uids))  # reproducible template ids

        def add(no, dept, period, on, status, pct, done, problems="", next_steps=""):
            svc.add_report(s, svc.target_id_for(s, no, 2026), ReportInput(
                period=period, report_date=on, department=dept, reporter="甲", status=status, percent=pct, done=done,
                problems=problems, next_steps=next_steps), "准备", TODAY)

        add(13, "区教委", "2026Q2", date(2026, 6, 1), "正常推进", 80, "招聘完成大半")
        add(3, "区教委", "2026Q3", date(2026, 9, 1), "正常推进", 70, "体测完成")
        add(3, "区卫健委", "2026Q2", date(2026, 6, 15), "正常推进", 80, "配合体检")
        add(1, "区委教育工委", "2026Q3", date(2026, 9, 10), "正常推进", 80, "联席会已召开")
    folder = data_dir / "seeds"
    folder.mkdir()
    raw = {}
    with db.sessions() as s:
        for tag, dept in zip("ABC", DEPARTMENTS):
            path = folder / f"raw{tag}.xlsx"
            write_template(s, dept, PERIOD, path)
            raw[tag] = path

    def fill(tag, rows, indicators):
        wb = load_workbook(raw[tag])
        ws = wb["填报"]
        for no, values in rows.items():
            r = next(r for r in range(4, ws.max_row + 1) if str(ws[f"B{r}"].value).startswith(f"{no}."))
            for col, v in values.items():
                ws[f"{col}{r}"] = v
        for r, v in indicators.items():
            wb["指标"][f"F{r}"] = v
        out = folder / f"filled{tag}.xlsx"
        wb.save(out)
        return out

    filled = {
        "A": fill("A", {13: {"L": "确认无变化"}, 4: dict(zip("FGHK", ("正常推进", 90, "已完成大部分", "李老师"))),
                        5: dict(zip("FGHK", ("已完成", 100, "全部完成", "王老师"))), 3: {"G": 85, "H": "体测全部完成"}},
                  {4: 95.5, 5: "80%"}),
        "B": fill("B", {3: {"L": "确认无变化"},
                        6: dict(zip("FGHIJK", ("滞后", 30, "进展缓慢", "经费未到位", "十月底前完成", "张医生")))},
                  {}),  # 区卫健委 only cooperates: its template offers no indicator (their figures are the leads')
    }
    seeds = {f"raw{t}": canonical(p.read_bytes()) for t, p in raw.items()}
    seeds.update({f"filled{t}": canonical(p.read_bytes()) for t, p in filled.items()})
    zips = {k: Zip.load(v) for k, v in seeds.items()}
    zips["sstA"] = to_shared_strings(zips["filledA"])
    zips["storedB"] = zips["filledB"].copy()
    zips["storedB"].method = zipfile.ZIP_STORED
    seeds["sstA"], seeds["storedB"] = zips["sstA"].dump(), zips["storedB"].dump()
    with db.sessions() as s:  # the seeds are what they should be: the raw ones import nothing, the filled ones rows
        for name, data in seeds.items():
            path = folder / f"check-{name}.xlsx"
            path.write_bytes(data)
            p = read_return(s, path, TODAY)
            new = p.count(NEW) + p.count(CHANGED)
            if not p.ok or (new == 0) != name.startswith("raw"):
                reasons = [r.reason for r in p.rows if r.problems]
                raise SystemExit(f"seed {name} is not as intended: {p.errors} {reasons} {p.counts()}")
        target_ids = list(s.scalars(select(YearlyTarget.id)))
        indicator_ids = list(s.scalars(select(Indicator.id)))
        report_ids = list(s.scalars(select(ProgressReport.id)))
    mods = SimpleNamespace(read_return=read_return, commit=commit, ImportPreview=ImportPreview,
                           ProgressError=ProgressError, NEW=NEW, CHANGED=CHANGED, Identity=Identity,
                           row_token=row_token, select=select, func=func,
                           IndicatorValue=IndicatorValue, ProgressReport=ProgressReport, Department=Department)
    ctx = Ctx(db, seeds, zips, KEY.encode("ascii"), target_ids, indicator_ids, report_ids,
              return_file.MAX_PART_BYTES, return_file.MAX_PARTS, return_file.MAX_PARTS_BYTES,
              return_file.MAX_FILE_BYTES, mods)
    return ctx


def _limit_address_space() -> None:
    """A safety net for the shared machine: a runaway input gets MemoryError instead of the OOM killer."""
    try:
        with open("/proc/self/status") as fh:
            vm = next(int(line.split()[1]) for line in fh if line.startswith("VmSize:")) * 1024
        limit = vm + 1536 * 1024 * 1024
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, StopIteration, ValueError):
        pass


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("seed", type=int)
    parser.add_argument("n", type=int)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--only", default="")
    parser.add_argument("--save", type=Path)
    parser.add_argument("--no-probes", action="store_true", help="random inputs only (to explore other seeds)")
    parser.add_argument("--part-limit", type=int, help="try another return_file.MAX_PART_BYTES (a what-if aid)")
    args = parser.parse_args(argv)
    data_dir = args.data_dir.resolve()
    if data_dir.exists() and any(data_dir.iterdir()):
        print(f"{data_dir} is not empty; give a new folder", file=sys.stderr)
        return 2
    data_dir.mkdir(parents=True, exist_ok=True)
    faulthandler.enable()
    started = time.perf_counter()
    ctx = setup(data_dir)
    ctx.no_probes = args.no_probes
    if args.part_limit:
        from qjgb_desktop.services.collection import return_file

        return_file.MAX_PART_BYTES = ctx.max_part = args.part_limit
    setup_s = time.perf_counter() - started
    signal.signal(signal.SIGALRM, _on_alarm)
    _limit_address_space()
    run = Run(args.seed, save=args.save)
    run.peak_kb = _hwm_kb()
    run.log = open(data_dir / "fuzz-failures.jsonl", "a", encoding="utf-8")
    folder = data_dir / "inputs"
    folder.mkdir()
    indices = [int(i) for i in args.only.split(",") if i] or list(range(args.start, args.start + args.n))
    if args.only and args.save:  # keep every input asked for
        for index in indices:
            args.save.mkdir(parents=True, exist_ok=True)
            kind, data = make_input(random.Random(f"{args.seed}/{index}"), index, ctx)
            if isinstance(data, bytes):
                (args.save / f"seed{args.seed}-input{index}.xlsx").write_bytes(data)
            print(f"input {index}: {kind}", file=sys.stderr)
    for index in indices:
        run_one(index, ctx, run, folder)
    problems = integrity(ctx.db)
    counts = db_counts(ctx.db)
    if problems or counts["duplicate_current"]:
        run.fail(-1, "end", "consistency", f"database at the end: {problems} {counts}")
    # VmHWM, this process's own high-water mark: ru_maxrss would carry over the RSS of the process that forked
    # this worker (Linux keeps it across exec), i.e. of the whole pytest run
    maxrss = max(run.peak_kb, _hwm_kb())
    ctx.db.close()
    print(json.dumps({
        "inputs": len(indices), "failures": run.failures, "slowest_s": round(run.slowest[0], 3),
        "slowest": {"index": run.slowest[1], "kind": run.slowest[2]}, "maxrss_mb": round(maxrss / 1024, 1),
        "rss_peaks": [{"mb": round(kb / 1024), "index": i, "kind": k} for kb, i, k in run.peaks],
        "probes": run.probes, "outcomes": run.outcomes, "kinds": dict(sorted(run.kinds.items())),
        "english": run.english[:20],
        "setup_s": round(setup_s, 2), "elapsed_s": round(time.perf_counter() - started, 2),
        "inputs_sha256": run.digest.hexdigest(), "final_counts": counts,
    }, ensure_ascii=False))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The leaders' workbook prints every character: every row has a height big enough for its wrapped texts, a text
too long for one row continues on the next rows, and the columns fit A4 landscape at a readable scale."""

import random
import re
import zipfile
from datetime import date
from xml.etree import ElementTree as ET

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment
from openpyxl.utils import range_boundaries

from qjgb_desktop.domain.validation import MAX_TEXT, ReportInput
from qjgb_desktop.services.collection import xlsx_layout as layout
from qjgb_desktop.services.collection.export import PAGE_UNITS, annex_widths, export_workbook
from qjgb_desktop.services.collection.xlsx_layout import (
    CONTINUED,
    MAX_ROW_PT,
    RowFitter,
    fit_row_heights,
    lines_height,
    max_lines,
    row_height,
    split_row,
    split_text,
    text_lines,
)
from qjgb_desktop.services.progress import reports as svc

TODAY = date(2026, 7, 2)
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def narrative(n: int, seed: int = 1) -> str:
    """Report-like Chinese text of exactly n characters: sentences with numbers, some paragraphs."""
    rng = random.Random(seed)
    parts = []
    while sum(map(len, parts)) < n:
        parts.append(f"第{rng.randrange(1, 300)}项任务按计划推进，完成率{rng.randrange(100)}%，"
                     f"开展培训{rng.randrange(1, 20)}场次、覆盖教师{rng.randrange(50, 900)}人。")
        if rng.random() < 0.1:
            parts.append("\n")
    text = "".join(parts)[:n]
    return text[:-1] + "完" if text.endswith("\n") else text


# --- the estimator -------------------------------------------------------------------------------------------

def test_cjk_lines():
    assert text_lines("中" * 100, 20) >= 10  # Excel: 9 characters a line in a width-20 column
    assert text_lines("中" * 5, 20) == 1
    assert text_lines("中" * 100, 40) < text_lines("中" * 100, 20)
    assert text_lines("中" * 100, 20, font_pt=14) > text_lines("中" * 100, 20)


def test_line_breaks_start_new_lines():
    assert text_lines("甲\n乙\n丙", 20) == 3
    assert text_lines("甲\n\n丙", 20) == 3  # an empty line is a line
    assert text_lines("中" * 30 + "\n" + "中" * 30, 20) == 2 * text_lines("中" * 30, 20)


def test_ascii_is_narrower_than_cjk():
    assert text_lines("abcd " * 20, 20) < text_lines("中" * 100, 20)
    assert text_lines("2026-07-01 12:30", 20) == 1


def test_values_that_are_not_text_take_one_line():
    assert text_lines(1234567890123, 3) == 1
    assert text_lines(date(2026, 7, 1), 3) == 1
    assert text_lines(None, 3) == 0 and text_lines("", 3) == 0
    assert row_height([None, 5, date(2026, 1, 1)], [3, 3, 3]) == lines_height(1)
    assert row_height(["中" * 100, 1], [20, 5]) == lines_height(text_lines("中" * 100, 20))
    assert row_height(["中"], [20], min_lines=3) == lines_height(3)


def test_heights_grow_with_lines_up_to_excels_maximum():
    assert lines_height(1) >= 20 and lines_height(2) - lines_height(1) >= 16  # Noto Sans CJK: 16 pt a line
    assert row_height(["中" * 5000], [20]) == MAX_ROW_PT == 409
    assert lines_height(max_lines()) <= MAX_ROW_PT < lines_height(max_lines() + 1) + 1


def _excel_lines(text: str, width: float) -> int:
    """Reference: Excel's layout at 96 dpi, character by character. Text gets 7·width px; a CJK character is
    14.67 px, ASCII at most 8 px; a Latin word or number moves down whole unless longer than a line; closing
    punctuation never starts a line (the character or word before it comes along)."""
    room = 7 * width
    lines = 0
    for para in text.split("\n"):
        tokens = []
        for tok in re.findall(r"[!-~]+| |.", para):
            tokens += list(tok) if len(tok) * 8.0 > room else [tok]
        lines += 1
        x = 0.0
        prev = 0.0
        for tok in tokens:
            w = sum(14.67 if ord(ch) > 0x7F else 8.0 for ch in tok)
            if x + w > room and x > 0:
                lines += 1
                if tok in "，。；、）：！？%" and x > prev:  # the previous character or word comes along
                    x = prev
                else:
                    x = 0.0
            x += w
            prev = w
    return lines


VOCABULARIES = [
    ["教育", "改革", "推进，", "完成", "2026年", "Python", "100%", "培训。", "覆盖", "（试行）", "OK", "、"],
    ["甲、", "乙，", "丙。", "丁", "（一）", "12", "a", "“好”", "3.5%", "开展", "工作", "教师", "学校"],  # lists
    ["Hello ", "world. ", "2026 ", "PythonPythonPython", "a "],  # Latin words
]


@pytest.mark.parametrize("width", [4.5, 5, 6, 7.5, 8, 9, 10, 10.5, 14, 16.5, 19, 20, 28, 30, 36, 40])
def test_the_estimate_is_never_below_excels_layout(width):
    rng = random.Random(width)
    for words in VOCABULARIES:
        for _ in range(100):
            text = "".join(rng.choice(words) for _ in range(rng.randrange(1, 150)))
            assert text_lines(text, width) >= _excel_lines(text, width), text


def test_every_measure_of_the_plan_fits_one_annex_row(plan_record):
    """The annex keeps one row per measure: its longest target (321 characters) and department list (15
    departments) fit their columns' 409 pt."""
    fitter = RowFitter(annex_widths(3))
    for action in plan_record["actions"]:
        for m in action["measures"]:
            lead, *others = m["departments"]
            row = [action["title"], f"{m['no']}.{m['title']}", "、".join([lead["name"] + "（牵头）"] +
                                                                         [d["name"] for d in others]),
                   *m["targets"].values()]
            assert fitter.lines(row) <= max_lines(), m["no"]


def test_splitting_keeps_every_character():
    text = narrative(MAX_TEXT)
    pieces = split_text(text, 28, max_lines())
    assert len(pieces) > 3
    assert all(text_lines(p, 28) <= max_lines() for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


def test_a_row_with_a_long_text_continues_on_following_rows():
    text = narrative(MAX_TEXT)
    rows = split_row([13, "2026Q3", text, "短"], [5, 8, 28, 10], mark_col=1)
    assert len(rows) > 3
    assert rows[0][0][:2] == [13, "2026Q3"] and rows[0][0][3] == "短"
    for values, height in rows[1:]:
        assert values[0] is None and values[1] == CONTINUED and values[3] is None
        assert height <= MAX_ROW_PT
    assert "".join(v[2] for v, _ in rows).replace("\n", "") == text.replace("\n", "")
    assert split_row([1, "中" * 10], [5, 28]) == [([1, "中" * 10], lines_height(1))]


def test_row_fitter_agrees_with_text_lines():
    fitter = RowFitter([5, 9, 28])
    for text in ["", "中", "中" * 4, "中" * 5, "中" * 40, "a\nb", "x" * 300]:
        assert fitter.lines([1, text, text]) == max(1, text_lines(text, 9), text_lines(text, 28))


def test_fit_row_heights_of_an_ordinary_sheet():
    wb = Workbook()
    ws = wb.active
    wrap = Alignment(wrap_text=True)
    ws["A1"] = "中" * 80  # title merged over A:C
    ws["A1"].alignment = wrap
    ws.merge_cells("A1:C1")
    ws["A2"], ws["B2"] = "中" * 40, "短"
    ws["A2"].alignment = ws["B2"].alignment = wrap
    ws["C2"] = "中" * 200  # not wrapped: prints on one line
    ws["A3"] = "中" * 120  # merged over two rows
    ws["A3"].alignment = wrap
    ws.merge_cells("A3:A4")
    ws["B3"] = 5
    ws["D2"] = "中" * 300  # in a hidden column: not printed
    ws["D2"].alignment = wrap
    ws.column_dimensions["D"].hidden = True
    fit_row_heights(ws, 1, 4, {"A": 10, "B": 10, "C": 20})
    heights = [ws.row_dimensions[r].height for r in range(1, 5)]
    assert heights[0] == lines_height(text_lines("中" * 80, 40))
    assert heights[1] == lines_height(text_lines("中" * 40, 10))
    assert heights[2] + heights[3] >= lines_height(text_lines("中" * 120, 10))
    assert heights[2] == lines_height(1)


def test_no_openpyxl_at_import():
    import subprocess
    import sys

    code = "import sys; import qjgb_desktop.services.collection.xlsx_layout; print('openpyxl' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
    assert layout.LINE_PT >= 16


# --- the exported workbook -------------------------------------------------------------------------------------

LONG = narrative(MAX_TEXT, seed=2)


@pytest.fixture
def exported(db, tmp_path):
    with db.sessions.begin() as s:
        tid = svc.target_id_for(s, 13, 2026)
        svc.add_report(s, tid, ReportInput("2026Q3", date(2026, 7, 1), "区教委", "李四", "正常推进", 40,
                                           done=LONG, problems="=编制不足\n" + narrative(300, seed=3),
                                           next_steps="-补招"), "clerk", TODAY)
        tid3 = svc.target_id_for(s, 3, 2026)
        svc.add_report(s, tid3, ReportInput("2026Q3", date(2026, 7, 1), "区教委", "王五", "正常推进", 55,
                                            done="体测完成"), "clerk", TODAY)
    out = tmp_path / "进度.xlsx"
    with db.sessions() as s:
        export_workbook(s, out, today=TODAY)
    return out


def _sheets(path) -> dict[str, dict]:
    """Each sheet's column widths, rows (number -> (height, customHeight, {column: value})) and merges, from
    the XML itself."""
    out = {}
    with zipfile.ZipFile(path) as z:
        book = ET.fromstring(z.read("xl/workbook.xml"))
        rels = {r.get("Id"): r.get("Target") for r in ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))}
        for sheet in book.iter(MAIN + "sheet"):
            target = rels[sheet.get(REL + "id")].lstrip("/")
            xml = ET.fromstring(z.read(target if target.startswith("xl/") else "xl/" + target))
            widths = {}
            for col in xml.iter(MAIN + "col"):
                for c in range(int(col.get("min")), int(col.get("max")) + 1):
                    widths[c] = float(col.get("width"))
            rows = {}
            for row in xml.iter(MAIN + "row"):
                cells = {}
                for c in row.iter(MAIN + "c"):
                    col = range_boundaries(c.get("r"))[0]
                    if c.get("t") == "inlineStr":
                        cells[col] = "".join(t.text or "" for t in c.iter(MAIN + "t"))
                    elif c.find(MAIN + "v") is not None:
                        cells[col] = float(c.find(MAIN + "v").text)  # a number or date: one line
                rows[int(row.get("r"))] = (row.get("ht"), row.get("customHeight"), cells)
            merges = [range_boundaries(m.get("ref")) for m in xml.iter(MAIN + "mergeCell")]
            out[sheet.get("name")] = {"widths": widths, "rows": rows, "merges": merges}
    return out


def test_every_row_of_every_sheet_has_a_height_for_its_longest_cell(exported):
    sheets = _sheets(exported)
    names = list(sheets)
    assert names[:6] == ["年度目标进度安排表", "配合进展", "指标", "进展明细", "督办清单", "督办事项"]
    assert len(names) == 8 and names[6].endswith("年考核") and names[7] == names[6] + "依据"
    for name, sheet in sheets.items():
        rows, widths = sheet["rows"], sheet["widths"]
        assert sorted(rows) == list(range(1, max(rows) + 1)), name  # no row left out
        for r, (ht, custom, _cells) in rows.items():
            assert ht is not None and custom == "1", (name, r)
            assert lines_height(1) <= float(ht) <= MAX_ROW_PT, (name, r)
        for r, (_ht, _, cells) in rows.items():
            for c, value in cells.items():
                region = next(((c1, r1, c2, r2) for c1, r1, c2, r2 in sheet["merges"]
                               if c1 == c and r1 == r), (c, r, c, r))
                c1, r1, c2, r2 = region
                need = lines_height(text_lines(value, sum(widths[k] for k in range(c1, c2 + 1))))
                have = sum(float(rows[k][0]) for k in range(r1, r2 + 1))
                assert have >= need, (name, r, c, value[:20])


def test_texts_that_wrap_are_wrapped(exported):
    wb = load_workbook(exported)
    for ws in wb.worksheets:
        widths = {c: ws.column_dimensions[letter].width for c, letter in enumerate("ABCDEFGHIJKLM", 1)}
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and text_lines(cell.value, widths[cell.column]) > 1:
                    assert cell.alignment.wrap_text, (ws.title, cell.coordinate)


def _column_text(rows, first: int, col: int) -> tuple[str, int]:
    """The text in `col` from row `first` on, over its continuation rows; and how many rows it took."""
    text = rows[first][2][col]
    r = first + 1
    while r in rows and rows[r][2].get(col) is not None and CONTINUED in rows[r][2].values():
        text += rows[r][2][col]
        r += 1
    return text, r - first


def test_a_5000_character_narrative_is_continued_and_printed_whole(exported):
    sheets = _sheets(exported)
    rows = sheets["进展明细"]["rows"]
    first = next(r for r, (_, _, cells) in rows.items() if cells.get(9, "").startswith(LONG[:20]))
    text, n = _column_text(rows, first, 9)  # I: 工作进展
    assert n >= 4
    assert text.replace("\n", "") == LONG.replace("\n", "")
    for r in range(first + 1, first + n):
        cells = rows[r][2]
        assert cells[3] == CONTINUED  # C: 周期, the first text column
        assert all(c in (3, 9, 10) for c in cells)  # the rest blank (J: the 存在问题 may continue too)
    assert rows[first][2][3] == "2026Q3" and rows[first][2][10].startswith("=编制不足")

    annex = sheets["年度目标进度安排表"]["rows"]
    first = next(r for r, (_, _, cells) in annex.items() if cells.get(9, "").startswith(LONG[:20]))
    text, n = _column_text(annex, first, 9)  # I: 最新工作进展
    assert n >= 4 and text.replace("\n", "") == LONG.replace("\n", "")
    assert annex[first][2][2].startswith("13.") and annex[first + 1][2][2] == CONTINUED
    measures = [cells[2] for _, _, cells in annex.values() if re.match(r"\d+\.", cells.get(2, ""))]
    assert len(measures) == 20  # every measure still there, once


def test_typed_text_stays_text_in_continued_rows(exported):
    wb = load_workbook(exported)
    for ws in wb.worksheets:
        assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    ws = wb["进展明细"]
    cell = next(c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=编制"))
    assert cell.quotePrefix and cell.alignment.wrap_text


def test_columns_fit_a4_landscape_at_a_readable_scale(exported):
    sheets = _sheets(exported)
    for name, sheet in sheets.items():
        assert sum(sheet["widths"].values()) <= PAGE_UNITS, name
    wb = load_workbook(exported)
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows and ws.freeze_panes
    assert wb["年度目标进度安排表"].print_title_rows == "$2:$3"

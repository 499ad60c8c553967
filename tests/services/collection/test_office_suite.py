"""The office programs the Excel tests rely on are really there and read our kind of xlsx (tests/office.py)."""

import pytest
from office import convert, convert_many, pdf_text, squash, ssconvert
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment

TEXT = (
    "延庆区“强基固本”教育改革与发展三年行动计划（2025—2027年）进展情况：\n"
    "全面加强中小学校党建工作，推进集团化办学和学区制管理改革，"
    "提升教师队伍素质与课堂教学质量。"
)


@pytest.fixture
def xlsx(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "进展"
    ws["A1"] = TEXT
    ws["A1"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 30
    ws.row_dimensions[1].height = 150
    ws["B1"] = "已完成"
    ws["A2"] = 42
    path = tmp_path / "进展.xlsx"
    wb.save(path)
    return path


def test_pdf_has_the_whole_wrapped_chinese_text(xlsx, tmp_path):
    pdf = convert(xlsx, "pdf", tmp_path / "pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    text = squash(pdf_text(pdf))
    assert squash(TEXT) in text
    assert "已完成" in text and "42" in text


def test_xlsx_and_ods_round_trip(xlsx, tmp_path):
    out = convert_many([xlsx], "xlsx", tmp_path / "xlsx")[0]
    assert out.name == "进展.xlsx"
    ws = load_workbook(out)["进展"]
    assert [[c.value for c in row] for row in ws.iter_rows(max_col=2)] == [[TEXT, "已完成"], [42, None]]
    assert ws["A1"].alignment.wrap_text
    assert ws.row_dimensions[1].height == pytest.approx(150, abs=1)

    ods = convert(xlsx, "ods", tmp_path / "ods")
    assert ods.read_bytes()[:2] == b"PK"  # a zip, the ODF package


def test_gnumeric_reads_and_writes_xlsx(xlsx, tmp_path):
    out = ssconvert(xlsx, tmp_path / "gnumeric.xlsx")
    with pytest.warns(UserWarning, match="no default style"):
        ws = load_workbook(out)["进展"]
    assert ws["A1"].value == TEXT and ws["B1"].value == "已完成" and ws["A2"].value == 42


def test_a_failed_conversion_says_why(tmp_path):
    bad = tmp_path / "bad.xlsx"
    # a broken zip: plain text would be opened by Writer (when installed) as a text document and converted
    bad.write_bytes(b"PK\x03\x04 a damaged workbook")
    with pytest.raises(RuntimeError, match="soffice"):
        convert(bad, "pdf", tmp_path / "out")

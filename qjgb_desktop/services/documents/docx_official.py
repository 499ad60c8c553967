"""A Chinese official-document draft (公文) per GB/T 9704-2012, as far as a generated draft should go, over
python-docx: the report (word_report) and the 督办 notices (word_notice) are written with it.

- A4, margins top 37 / bottom 35 / left 28 / right 26 mm: the 156 × 225 mm 版心.
- 22 lines × 28 characters a page: fixed line spacing 28.95 pt, and 3号 characters set 0.25 pt tighter so that
  28 fill the 156 mm line (Word's own way is a character grid, which LibreOffice draws at half the characters).
- Title 2号 方正小标宋简体; body 3号 仿宋_GB2312; 一、 黑体; （一） 楷体; 1. 仿宋 bold; page numbers "— 1 —"
  in 4号 宋体, odd pages right and even pages left, one character in from the edge of the 版心.
- Every run carries its East Asian font (w:rFonts w:eastAsia) besides ascii/hAnsi, and so do the styles:
  without it Word and WPS show Chinese in the theme's Latin fallback.

Fonts we cannot know on the reader's PC. 方正小标宋简体 and 仿宋_GB2312 are what GB/T 9704 asks and what
government PCs have installed; a plain Windows has neither, but has 宋体 and 仿宋. The runs name the standard
font, and the document's font table lists each with w:altName (宋体, 仿宋), the GB2312 charset and the panose
of its fallback, which Word and WPS use to pick the substitute. So the draft looks right where the fonts exist
and degrades to the nearest standard face (not to a Latin font) where they do not. We do not turn the title
bold for the fallback: a bold 宋体 would be wrong on every PC that has 小标宋.
"""

from __future__ import annotations

import io
import itertools
import math
import re
from datetime import date
from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from lxml import etree

from qjgb_desktop.store.files import write_atomically

PAGE_MM = (210, 297)
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
TEXT_WIDTH_MM = PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]  # 156
FOOTER_MM = 25  # the page number's dash about 7 mm under the 版心

TITLE_FONT, BODY_FONT, H1_FONT, H2_FONT, PAGE_FONT = "方正小标宋简体", "仿宋_GB2312", "黑体", "楷体", "宋体"
TITLE_PT, BODY_PT, PAGE_PT, TABLE_PT, CAPTION_PT = 22, 16, 14, 12, 14  # 2号, 3号, 4号, 小四, 4号
LINE_PT = 28.95  # 22 lines in the 225 mm 版心
TITLE_LINE_PT = 35
CHARS_PER_LINE = 28

# name: (altName, panose of the fallback, family). Charset 86 = GB2312.
FONT_TABLE = {
    TITLE_FONT: ("宋体", "02010600030101010101", "roman"),
    BODY_FONT: ("仿宋", "02010609060101010101", "roman"),
    H1_FONT: ("SimHei", "02010609060101010101", "swiss"),
    H2_FONT: ("KaiTi", "02010609060101010101", "roman"),
    PAGE_FONT: ("SimSun", "02010600030101010101", "roman"),
}

NUMERALS = "零一二三四五六七八九"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 99 → 九十九 (headings never go further)."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    return (("" if tens == 1 else NUMERALS[tens]) + "十" if tens else "") + (NUMERALS[ones] if ones else "")


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def clean(text) -> str:
    """Text as a document can carry it (reports typed before input was cleaned may hold control characters)."""
    return _NOT_XML.sub("", "" if text is None else str(text))


_CLOSING = "，。、；：？！）》”’…·"
_OPENING = "（《“‘"
_GOOD_ENDS = ("发展", "改革", "计划", "行动", "工作", "情况", "推进", "建设")


def _width(text: str) -> float:
    return sum(0.5 if ord(ch) < 0x2E80 else 1.0 for ch in text)


def _break_penalty(text: str, i: int) -> float | None:
    """How bad a line break before text[i] is in a title; None where it must not break."""
    a, b = text[i - 1], text[i]
    if b in _CLOSING or a in _OPENING or (a.isascii() and a.isalnum()):
        return None  # never before a closing mark, after an opening one, or after a figure (2027|年)
    if b.isascii() and b.isalnum() and a not in _CLOSING:
        return None
    if a in _CLOSING or b in _OPENING or text[:i].endswith(_GOOD_ENDS):
        penalty = 0.0
    else:
        penalty = 4.0  # perhaps inside a word
    return penalty + (6.0 if b in "与和及的" or a in "与和及" else 0.0)  # not at a particle


def title_lines(text: str, per_line: float = 20) -> list[str]:
    """A long title in lines of about equal width, broken between words where the text allows (GB/T 9704: 回行时
    词意完整、排列对称). `per_line` is in characters of the title's size (about 20 for 2号 on 156 mm)."""
    total = _width(text)
    if total <= per_line:
        return [text]
    breaks = {i: p for i in range(1, len(text)) if (p := _break_penalty(text, i)) is not None}
    breaks[len(text)] = 0.0
    ends = sorted(breaks)
    for lines in range(math.ceil(total / per_line), len(text) + 1):
        goal = total / lines
        # best[j] = (cost, breaks) of the first k lines ending just before text[j]
        best = {0: (0.0, [])}
        for _ in range(lines):
            step = {}
            for start, (cost, cuts) in best.items():
                for end in ends:
                    w = _width(text[start:end]) if end > start else None
                    if w is None or w > per_line:
                        continue
                    c = cost + ((w - goal) / 2) ** 2 + breaks[end]
                    if end not in step or c < step[end][0]:
                        step[end] = (c, cuts + [end])
            best = step
        if len(text) in best:
            cuts = [0, *best[len(text)][1]]
            return [text[i:j] for i, j in itertools.pairwise(cuts)]
    return [text]  # no allowed break: the word processor wraps it


def set_fonts(rpr, east_asia: str, latin: str | None = None) -> None:
    """East Asian, ascii, hAnsi and cs fonts on a w:rPr, dropping theme fonts (which would win over them)."""
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), latin or east_asia)
    fonts.set(qn("w:eastAsia"), east_asia)


def _child(parent, tag: str):
    el = parent.find(qn(tag))
    if el is None:
        el = OxmlElement(tag)
        parent.append(el)
    return el


# What follows each element we add, in the schema's order (Word refuses a file whose elements are out of order).
_AFTER = {
    "w:snapToGrid": ("w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
                     "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId",
                     "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange"),
    "w:outlineLvl": ("w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange"),
    "w:spacing": ("w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect", "w:bdr",
                  "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout",
                  "w:specVanish", "w:oMath"),
    "w:shd": ("w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark"),
}


def _put(parent, tag: str, value: str | None = "0", attr: str = "w:val"):
    """The child `tag` of a w:pPr, w:rPr or w:tcPr (made in its schema place when missing), `attr` set."""
    el = parent.find(qn(tag))
    if el is None:
        el = OxmlElement(tag)
        parent.insert_element_before(el, *_AFTER[tag])
    if value is not None:
        el.set(qn(attr), value)
    return el


# 3号 runs are set this much tighter (in twentieths of a point): 28 characters fill the 156 mm line.
BODY_TIGHTEN = math.floor((TEXT_WIDTH_MM / 25.4 * 72 / CHARS_PER_LINE - BODY_PT) * 20)


class OfficialDocument:
    """A 公文 draft built top to bottom: title(), heading1/2/3(), paragraph(), table(), picture(), signature(),
    then save(path). Headings number themselves (一、 （一） 1.), restarting under their parent."""

    def __init__(self) -> None:
        self.doc = Document()
        self._numbers = [0, 0, 0]
        self.tables = 0
        self.pictures = 0
        self._setup_page()
        self._setup_styles()
        self._setup_font_table()
        self._setup_page_numbers()

    # -- setup -------------------------------------------------------------------------------------------
    def _setup_page(self) -> None:
        s = self.doc.sections[0]
        s.page_width, s.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
        s.top_margin, s.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
        s.left_margin, s.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
        s.header_distance, s.footer_distance = Mm(15), Mm(FOOTER_MM)
        # The line pitch only: Word's character grid (linesAndChars) is drawn by LibreOffice at half the
        # characters a line; runs of 3号 are set 0.25 pt tighter instead, which fits 28 on a line in both.
        _child(s._sectPr, "w:docGrid").set(qn("w:linePitch"), str(round(LINE_PT * 20)))

    def _setup_styles(self) -> None:
        styles = self.doc.styles
        defaults = styles.element.find(qn("w:docDefaults"))
        rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
        set_fonts(rpr, BODY_FONT)
        _child(rpr, "w:sz").set(qn("w:val"), str(BODY_PT * 2))
        _child(rpr, "w:szCs").set(qn("w:val"), str(BODY_PT * 2))
        lang = _child(rpr, "w:lang")
        lang.set(qn("w:val"), "en-US")
        lang.set(qn("w:eastAsia"), "zh-CN")
        spacing = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
        spacing.set(qn("w:after"), "0")
        normal = styles["Normal"]
        normal.font.size = Pt(BODY_PT)
        set_fonts(normal.element.get_or_add_rPr(), BODY_FONT)
        _put(normal.element.get_or_add_rPr(), "w:spacing", str(BODY_TIGHTEN))
        fmt = normal.paragraph_format
        fmt.space_before, fmt.space_after = Pt(0), Pt(0)
        fmt.line_spacing = Pt(LINE_PT)
        fmt.widow_control = True
        fmt.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY  # 两端对齐, as Chinese Word does by default
        grid_table = styles["Table Grid"]
        grid_table.font.size = Pt(TABLE_PT)
        set_fonts(grid_table.element.get_or_add_rPr(), BODY_FONT)
        for name, font, size, bold, outline in (("公文标题", TITLE_FONT, TITLE_PT, False, None),
                                                ("一级标题", H1_FONT, BODY_PT, False, 0),
                                                ("二级标题", H2_FONT, BODY_PT, False, 1),
                                                ("三级标题", BODY_FONT, BODY_PT, True, 2)):
            style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            style.base_style = normal
            style.font.size, style.font.bold = Pt(size), bold
            style.font.color.rgb = RGBColor(0, 0, 0)
            set_fonts(style.element.get_or_add_rPr(), font)
            style.paragraph_format.keep_with_next = outline is not None
            if outline is not None:
                _put(style.element.get_or_add_pPr(), "w:outlineLvl", str(outline))

    def _setup_font_table(self) -> None:
        """Fallbacks for fonts a reader's PC may lack (see the module's note). The font table is a part
        python-docx keeps as bytes; we add our fonts to it."""
        part = next(r.target_part for r in self.doc.part.rels.values() if r.reltype.endswith("/fontTable"))
        root = etree.fromstring(part.blob)
        for name, (alt, panose, family) in FONT_TABLE.items():
            font = etree.SubElement(root, qn("w:font"), {qn("w:name"): name})
            etree.SubElement(font, qn("w:altName"), {qn("w:val"): alt})
            etree.SubElement(font, qn("w:panose1"), {qn("w:val"): panose})
            etree.SubElement(font, qn("w:charset"), {qn("w:val"): "86"})
            etree.SubElement(font, qn("w:family"), {qn("w:val"): family})
            etree.SubElement(font, qn("w:pitch"), {qn("w:val"): "variable"})
        part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)

    def _setup_page_numbers(self) -> None:
        """"— 1 —" in 4号 宋体: odd pages at the right, even pages at the left, one character in."""
        self.doc.settings.odd_and_even_pages_header_footer = True
        section = self.doc.sections[0]
        for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                              (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
            footer.is_linked_to_previous = False
            p = footer.paragraphs[0]
            p.alignment = align
            fmt = p.paragraph_format
            fmt.first_line_indent = Pt(0)
            fmt.line_spacing = 1.0
            setattr(fmt, "right_indent" if align == WD_ALIGN_PARAGRAPH.RIGHT else "left_indent", Pt(PAGE_PT))
            _put(p._p.get_or_add_pPr(), "w:snapToGrid")
            self._run(p, "— ", PAGE_FONT, PAGE_PT)
            self._field(p, "PAGE", "1", PAGE_FONT, PAGE_PT)
            self._run(p, " —", PAGE_FONT, PAGE_PT)

    # -- runs and paragraphs ------------------------------------------------------------------------------
    @staticmethod
    def _run(paragraph, text: str, font: str = BODY_FONT, size: float = BODY_PT, bold: bool = False):
        run = paragraph.add_run(clean(text))
        run.font.size = Pt(size)
        run.font.bold = bold
        rpr = run._r.get_or_add_rPr()
        set_fonts(rpr, font)
        if size == BODY_PT:
            _put(rpr, "w:spacing", str(BODY_TIGHTEN))
        return run

    def _field(self, paragraph, instruction: str, shown: str, font: str, size: float) -> None:
        """A field (python-docx has none): begin, instruction, separate, the value shown until updated, end."""
        def char(kind: str) -> None:
            _child(self._run(paragraph, "", font, size)._r, "w:fldChar").set(qn("w:fldCharType"), kind)

        char("begin")
        instr = _child(self._run(paragraph, "", font, size)._r, "w:instrText")
        instr.text = f" {instruction} "
        instr.set(qn("xml:space"), "preserve")
        char("separate")
        self._run(paragraph, shown, font, size)
        char("end")

    def _paragraph(self, style: str | None = None, align=None, indent_chars: float = 2, grid: bool = True):
        p = self.doc.add_paragraph(style=style)
        if align is not None:
            p.alignment = align
        ppr = p._p.get_or_add_pPr()
        ind = ppr.get_or_add_ind()
        ind.set(qn("w:firstLineChars"), str(round(indent_chars * 100)))
        ind.set(qn("w:firstLine"), str(round(indent_chars * BODY_PT * 20)))
        if not grid:
            _put(ppr, "w:snapToGrid")
        return p

    def document_number(self, text: str) -> None:
        """发文字号 (督办〔2026〕3号): centred in the body font above the title, as in a 版头."""
        self._run(self._paragraph(align=WD_ALIGN_PARAGRAPH.CENTER, indent_chars=0), text)
        self.blank()

    def title(self, lines: str | list[str]) -> None:
        """The title, centred, 2号 小标宋, in balanced lines (title_lines); a list gives the lines itself."""
        lines = title_lines(lines) if isinstance(lines, str) else lines
        p = self._paragraph("公文标题", WD_ALIGN_PARAGRAPH.CENTER, 0, grid=False)
        p.paragraph_format.line_spacing = Pt(TITLE_LINE_PT)
        for i, line in enumerate(lines):
            run = self._run(p, line, TITLE_FONT, TITLE_PT)
            if i < len(lines) - 1:
                run.add_break()
        self.blank()

    def subtitle(self, text: str) -> None:
        """A line under the title, centred in 楷体 (e.g. the date the figures are as of)."""
        self._run(self._paragraph(align=WD_ALIGN_PARAGRAPH.CENTER, indent_chars=0), text, H2_FONT)
        self.blank()

    def recipient(self, text: str) -> None:
        """主送机关: flush left, ending with a full-width colon."""
        self._run(self._paragraph(indent_chars=0), text.rstrip("：:") + "：")

    def blank(self) -> None:
        self._run(self._paragraph(indent_chars=0), "")

    def heading1(self, text: str) -> str:
        self._numbers = [self._numbers[0] + 1, 0, 0]
        label = f"{chinese_number(self._numbers[0])}、{text}"
        self._run(self._paragraph("一级标题"), label, H1_FONT)
        return label

    def heading2(self, text: str) -> str:
        self._numbers[1:] = [self._numbers[1] + 1, 0]
        label = f"（{chinese_number(self._numbers[1])}）{text}"
        self._run(self._paragraph("二级标题"), label, H2_FONT)
        return label

    def heading3(self, text: str) -> str:
        self._numbers[2] += 1
        label = f"{self._numbers[2]}.{text}"
        self._run(self._paragraph("三级标题"), label, BODY_FONT, bold=True)
        return label

    def paragraph(self, text: str = "", *, lead: str = "", indent: bool = True, align=None):
        """A body paragraph; `lead` is a bold opening (如 “工作进展：”) before the text."""
        p = self._paragraph(align=align, indent_chars=2 if indent else 0)
        if lead:
            self._run(p, lead, BODY_FONT, bold=True)
        self._run(p, text)
        return p

    def page_break(self) -> None:
        p = self._paragraph(indent_chars=0)
        self._run(p, "").add_break(WD_BREAK.PAGE)

    def annex(self, label: str, title: str) -> None:
        """An annex on a new page: “附件1” in 黑体 at the top left, then its title like the document's."""
        self.page_break()
        self._run(self._paragraph(indent_chars=0), label, H1_FONT)
        self.blank()
        self.title(title)

    # -- tables and pictures -------------------------------------------------------------------------------
    def caption(self, text: str, above: bool = True) -> None:
        """表N/图N captions in 4号 黑体: a table's above it (kept with it), a picture's below."""
        p = self._paragraph(align=WD_ALIGN_PARAGRAPH.CENTER, indent_chars=0, grid=False)
        p.paragraph_format.line_spacing = 1.25
        p.paragraph_format.keep_with_next = above
        self._run(p, text, H1_FONT, CAPTION_PT)

    def table(self, headers: list[str], rows: list[list], widths: list[float] | None = None, *,
              title: str = "", size: float = TABLE_PT, center: set[int] = frozenset(), keep_rows: bool = True):
        """A bordered table over the text width: the header row repeats on each page, rows are not split
        across pages (keep_rows), `widths` are relative column weights, `center` the columns to centre."""
        self.tables += 1
        if self._ends_with_table():  # two tables in a row would merge into one
            self._run(self._paragraph(indent_chars=0, grid=False), "", BODY_FONT, size)
        if title:
            self.caption(f"表{self.tables}　{title}")
        widths = widths or [1.0] * len(headers)
        twips = [round(TEXT_WIDTH_MM / 25.4 * 1440 * w / sum(widths)) for w in widths]
        table = self.doc.add_table(rows=1 + len(rows), cols=len(headers))
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        tbl_pr = table._tbl.tblPr
        width = _child(tbl_pr, "w:tblW")
        width.set(qn("w:w"), str(sum(twips)))
        width.set(qn("w:type"), "dxa")
        for col, w in zip(table.columns, twips):
            col.width = Mm(w / 1440 * 25.4)
        for r, values in enumerate([headers, *rows]):
            row = table.rows[r]
            tr_pr = row._tr.get_or_add_trPr()
            if keep_rows:
                _child(tr_pr, "w:cantSplit")
            if r == 0:
                _child(tr_pr, "w:tblHeader")
            for c, (cell, value) in enumerate(zip(row.cells, values)):
                cell.width = Mm(twips[c] / 1440 * 25.4)
                if r == 0:
                    _put(cell._tc.get_or_add_tcPr(), "w:shd", "clear").set(qn("w:fill"), "E7E6E6")
                cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
                p = cell.paragraphs[0]
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER if (r == 0 or c in center) else WD_ALIGN_PARAGRAPH.LEFT
                fmt = p.paragraph_format
                fmt.first_line_indent, fmt.line_spacing = Pt(0), 1.0
                _put(p._p.get_or_add_pPr(), "w:snapToGrid")
                self._run(p, "" if value is None else str(value), BODY_FONT, size, bold=r == 0)
        return table

    def _ends_with_table(self) -> bool:
        last = self.doc.element.body[-2] if len(self.doc.element.body) > 1 else None  # [-1] is the w:sectPr
        return last is not None and last.tag == qn("w:tbl")

    def picture(self, png: bytes, caption: str = "") -> None:
        """A picture scaled to the text width, centred, with its caption (图N) under it."""
        self.pictures += 1
        p = self._paragraph(align=WD_ALIGN_PARAGRAPH.CENTER, indent_chars=0, grid=False)
        fmt = p.paragraph_format
        fmt.line_spacing, fmt.keep_with_next, fmt.space_before = 1.0, bool(caption), Pt(6)
        self._run(p, "").add_picture(io.BytesIO(png), width=Mm(TEXT_WIDTH_MM))
        if caption:
            self.caption(f"图{self.pictures}　{caption}", above=False)
            self.blank()

    # -- closing -------------------------------------------------------------------------------------------
    def signature(self, day: date, issuer: str = "") -> None:
        """落款 and 成文日期: the date right-aligned four characters in, the issuer centred over it."""
        self.blank()
        self.blank()
        when = chinese_date(day)
        if issuer:
            offset = max(0.0, 4 + (_width(when) - _width(issuer)) / 2)
            p = self._paragraph(align=WD_ALIGN_PARAGRAPH.RIGHT, indent_chars=0)
            p.paragraph_format.right_indent = Pt(BODY_PT * offset)
            self._run(p, issuer)
        p = self._paragraph(align=WD_ALIGN_PARAGRAPH.RIGHT, indent_chars=0)
        p.paragraph_format.right_indent = Pt(BODY_PT * 4)
        self._run(p, when)

    def save(self, out: Path) -> Path:
        if self._ends_with_table():
            # Word ends a body with a paragraph: a 1 pt one, so a table that fills the page leaves no empty page
            p = self._paragraph(indent_chars=0, grid=False)
            p.paragraph_format.line_spacing = Pt(1)
            self._run(p, "", BODY_FONT, 1)
        write_atomically(Path(out), self.doc.save)
        return Path(out)

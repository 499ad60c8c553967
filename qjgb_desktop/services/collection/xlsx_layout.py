"""Printed height of wrapped rows, so Excel, WPS and LibreOffice print every line of every cell.

A row without an explicit height is printed one line high by LibreOffice (it does not re-measure rows of an
xlsx it prints), so each workbook we write gives every row a height estimated here from its texts and the
widths of their columns. The estimate errs on the tall side: a slightly too tall row costs a little paper, a
too short one silently loses text. Text that would need a row taller than Excel allows (409 pt) is continued on
following rows by `split_row`.

No openpyxl at import: the estimator is arithmetic on str lengths (a loop only over the runs of a text mixing
Latin words or numbers with CJK), fast enough for 100,000 rows. tests/services/collection/test_excel_print.py checks
it is never below a character-by-character Excel layout, and LibreOffice's PDFs of it were checked by hand.

Units: column widths are Excel character units: the width of a digit of the default 11 pt font, 7 px at 96 dpi.
A column of width w is 7w + 5 px, the 5 px being its margins and grid line, so w units are left for text.
At 11 pt a CJK character or full-width punctuation mark is 1 em = 14.67 px = 2.1 units, an ASCII letter or
digit about 1 unit. The number of wide characters is (len(s.encode()) - len(s)) / 2: 1 for a 3-byte CJK
character, 0 for ASCII, 0.5 for a 2-byte one (Latin, Greek, ×, °), 1.5 for a 4-byte one (CJK extension B,
emoji), so a text is measured without a Python loop over its characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from math import ceil

FONT_PT = 11.0
# A CJK character: 14.67 px / 7 px. The margin of safety is in how lines are filled (whole characters, the
# line-breaking toll, PAD_UNITS) rather than here, so that the plan's longest yearly target (321 characters)
# still fits one 409 pt row of a width-30 annex column, as it does in Excel (23 lines of 14 characters).
CJK_UNITS = 2.1
# ASCII: Calibri's digits are exactly 1 unit, its capitals up to 1.3; where LibreOffice replaces Calibri
# (DejaVu Sans) the unit itself grows with the digit, so 1.2 covers both.
ASCII_UNITS = 1.2
# Kept free of the 7w px: Excel rounds a column to whole pixels, and printing lays text out again at the
# printer's resolution.
PAD_UNITS = 0.5
# Chinese line-breaking rules keep closing punctuation (，。、）) off a line's start by moving the character
# before it down too. Counted as half a CJK character on every line: about four times what report texts lose
# on average, enough for dense lists like 甲、乙、丙 (tests compare with a character-by-character layout).
KINSOKU_UNITS = 1.05
# LibreOffice prints CJK in Noto Sans CJK, whose lines are 1.45 em (16.0 pt at 11 pt measured in its PDFs);
# Excel's and WPS's DengXian/SimSun lines are shorter.
LINE_PT = 16.5
# Top and bottom cell margin.
PAD_PT = 4.0
# Excel's (and WPS's) largest row height; taller rows are refused or clamped, hiding the rest of the text.
MAX_ROW_PT = 409.0
CONTINUED = "（续）"
# Where a cut through a long paragraph looks natural, searched for in the last quarter of a full piece.
_BREAKS = "。；！？，、;!?, "
# Latin words and numbers (never broken inside, unlike CJK text) with the closing punctuation that cannot
# start a line after them (45%，), and what lies between them.
_RUNS = re.compile(r"[!-~]+[，。、；：！？）》」』”’]*|[^!-~]+")
_LATIN = frozenset(chr(c) for c in range(0x21, 0x7F))
_WIDE_EXTRA = (CJK_UNITS - ASCII_UNITS) / 2  # per extra UTF-8 byte
_WIDEST = 3 * _WIDE_EXTRA + ASCII_UNITS  # a 4-byte character


def _measure(width_chars: float, font_pt: float) -> tuple[float, float]:
    """Units of 11 pt text that fit a column: on a single line, and on each line of wrapped text."""
    usable = (width_chars - PAD_UNITS) * (FONT_PT / font_pt)
    # wrapped lines hold whole characters (as many CJK as fit), less the line-breaking rules' toll
    per_line = (usable // CJK_UNITS) * CJK_UNITS - KINSOKU_UNITS
    return usable, (per_line if per_line > CJK_UNITS else CJK_UNITS)  # a line holds at least one character


def _para_lines(para: str, usable: float, per_line: float) -> int:
    n = len(para)
    if not n:
        return 1
    extra = len(para.encode("utf-8")) - n
    units = extra * _WIDE_EXTRA + n * ASCII_UNITS
    if units <= usable:
        return 1
    if extra == 2 * n:  # all CJK (the common case): no loop at all
        return ceil(units / per_line)
    return _mixed_lines(para, usable, per_line)


def _mixed_lines(para: str, usable: float, per_line: float) -> int:
    """Lines of a paragraph with Latin words or numbers, laid out run by run (a few runs per sentence).

    A Latin word or number that does not fit moves down whole (one longer than a line is then broken, in Excel
    perhaps already on the line before: the estimate is the safe one). CJK runs break between any two
    characters, each line holding whole characters less the line-breaking rules' toll.
    """
    lines = 1
    x = 0.0  # units used on the current line
    for run in _RUNS.findall(para):
        n = len(run)
        w = (len(run.encode("utf-8")) - n) * _WIDE_EXTRA + n * ASCII_UNITS
        if x + w <= usable:
            x += w
            continue
        if run[0] in _LATIN:  # down to the next line; one longer than a line then wraps from its start
            if x:
                lines += 1
                x = 0.0
            if w <= usable:
                x = w
                continue
        room = ((usable - x) // CJK_UNITS) * CJK_UNITS - KINSOKU_UNITS  # what the current line still takes
        if room > 0:
            w -= room
        more = ceil(w / per_line)
        lines += more
        # what the new line starts with, in whole characters: the toll above may move one whole character
        x = ceil((w - (more - 1) * per_line) / CJK_UNITS) * CJK_UNITS
    return lines


def _text_lines(text: str, usable: float, per_line: float) -> int:
    if "\n" in text:
        return sum([_para_lines(p, usable, per_line) for p in text.split("\n")])
    return _para_lines(text, usable, per_line) if text else 0


def text_lines(text, width_chars: float, font_pt: float = FONT_PT) -> int:
    """Printed lines of a value in a wrapped cell of the given width; non-text values take one line, None none."""
    if text is None:
        return 0
    if type(text) is not str:
        return 1
    return _text_lines(text, *_measure(width_chars, font_pt))


def lines_height(lines: int, font_pt: float = FONT_PT) -> float:
    """Row height in points for this many lines, at most Excel's maximum."""
    height = (lines if lines > 1 else 1) * LINE_PT * (font_pt / FONT_PT) + PAD_PT
    return height if height < MAX_ROW_PT else MAX_ROW_PT


def max_lines(font_pt: float = FONT_PT) -> int:
    """Most lines a single row can show."""
    return int((MAX_ROW_PT - PAD_PT) // (LINE_PT * (font_pt / FONT_PT)))


def row_height(values: Sequence, widths: Sequence[float], font_pt: float = FONT_PT, min_lines: int = 1) -> float:
    """Height in points of a row whose i-th value sits in a wrapped cell of width widths[i]."""
    lines = min_lines
    for value, width in zip(values, widths):
        if type(value) is str and value:
            n = text_lines(value, width, font_pt)
            if n > lines:
                lines = n
    return lines_height(lines, font_pt)


def split_text(text: str, width_chars: float, lines: int, font_pt: float = FONT_PT) -> list[str]:
    """Cut a text into pieces of at most `lines` printed lines each, preferring paragraph and sentence ends.

    Joining the pieces (with the line break the cut fell on, if any) gives the text back: no character is lost.
    """
    fit = _measure(width_chars, font_pt)
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for para in text.split("\n"):
        need = _para_lines(para, *fit)
        if used + need <= lines:
            current.append(para)
            used += need
            continue
        if current and need <= lines:  # the paragraph fits a piece of its own: cut between paragraphs
            pieces.append("\n".join(current))
            current, used = [para], need
            continue
        rest = para
        while _para_lines(rest, *fit) > lines - used:
            room = lines - used
            if room <= 0:
                pieces.append("\n".join(current))
                current, used = [], 0
                continue
            k = _longest_prefix(rest, fit, room)
            cut = max(rest.rfind(ch, k - k // 4, k) for ch in _BREAKS) + 1
            k = cut if cut > 0 else k
            current.append(rest[:k])
            pieces.append("\n".join(current))
            current, used, rest = [], 0, rest[k:]
        current.append(rest)
        used += _para_lines(rest, *fit)
    if current:
        pieces.append("\n".join(current))
    return pieces


def _longest_prefix(text: str, fit: tuple[float, float], lines: int) -> int:
    """Length of the longest start of `text` that fits `lines` lines (at least one character)."""
    lo, hi = 1, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _para_lines(text[:mid], *fit) <= lines:
            lo = mid
        else:
            hi = mid - 1
    return lo


class RowFitter:
    """Heights (and continuation rows) for many rows of one sheet: each column measured once, short texts
    recognised by their length alone, so 100,000 rows take a fraction of a second."""

    def __init__(self, widths: Sequence[float], font_pt: float = FONT_PT):
        self.widths = list(widths)
        self.font_pt = font_pt
        self.most = max_lines(font_pt)
        self._fits = [_measure(w, font_pt) for w in self.widths]
        # a text of at most this many characters fits one line whatever they are (4-byte ones are widest)
        self._short = [int(usable // _WIDEST) for usable, _ in self._fits]

    def lines(self, values: Sequence) -> int:
        """Lines the row's tallest cell needs (at least one)."""
        top = 1
        for value, short, fit in zip(values, self._short, self._fits):
            if type(value) is str and (len(value) > short or "\n" in value):
                n = _text_lines(value, *fit)
                if n > top:
                    top = n
        return top

    def split(self, values: list, mark_col: int | None = None) -> list[tuple[list, float]]:
        """The sheet rows (values, height in points) that print one logical row completely.

        Usually the row itself. A text needing more than a row's maximum height continues on following rows,
        which hold only the continued texts, and CONTINUED in column `mark_col` (0-based) when that is free.
        """
        top = self.lines(values)
        if top <= self.most:
            return [(values, lines_height(top, self.font_pt))]
        widths, most = self.widths, self.most
        pieces = {i: split_text(v, widths[i], most, self.font_pt) for i, v in enumerate(values)
                  if type(v) is str and text_lines(v, widths[i], self.font_pt) > most}
        out = []
        for k in range(max(len(p) for p in pieces.values())):
            row = list(values) if k == 0 else [None] * len(values)
            for i, parts in pieces.items():
                row[i] = parts[k] if k < len(parts) else None
            if k and mark_col is not None and row[mark_col] is None:
                row[mark_col] = CONTINUED
            out.append((row, lines_height(self.lines(row), self.font_pt)))
        return out


def split_row(values: Sequence, widths: Sequence[float], mark_col: int | None = None,
              font_pt: float = FONT_PT) -> list[tuple[list, float]]:
    """RowFitter(widths).split for a single row."""
    return RowFitter(widths, font_pt).split(list(values), mark_col)


def grid_heights(rows: Sequence[Sequence], widths: Sequence[float],
                 merges: Iterable[tuple[int, int, int, int]] = (), font_pt: float = FONT_PT,
                 fonts: Sequence[Sequence[float]] | None = None) -> list[float]:
    """Heights of a block of rows; merges are (first_row, first_col, last_row, last_col), 0-based in the block.

    A merged cell's text wraps in the sum of its columns' widths. A region over several rows gets the lines it
    needs from its rows together: what they lack is added to its last row. fonts, if given, holds each cell's
    size in points (same shape as rows).
    """
    merges = list(merges)
    covered = {(r, c) for r1, c1, r2, c2 in merges for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
    tall = []
    needs = []
    for r, row in enumerate(rows):
        need = lines_height(1, font_pt)
        for c, value in enumerate(row):
            if (r, c) in covered or type(value) is not str or not value:
                continue
            size = fonts[r][c] if fonts else font_pt
            need = max(need, lines_height(text_lines(value, widths[c], size), size))
        needs.append(need)
    for r1, c1, r2, c2 in merges:
        value = rows[r1][c1] if c1 < len(rows[r1]) else None
        if type(value) is not str or not value:
            continue
        size = fonts[r1][c1] if fonts else font_pt
        height = lines_height(text_lines(value, sum(widths[c1:c2 + 1]), size), size)
        if r1 == r2:
            needs[r1] = max(needs[r1], height)
        else:
            tall.append((r1, r2, height))
    for r1, r2, height in tall:  # after the single rows, so only a real lack is added
        lack = height - sum(needs[r1:r2 + 1])
        if lack > 0:
            needs[r2] = min(needs[r2] + lack, MAX_ROW_PT)
    return needs


def column_index(letters: str) -> int:
    """1-based index of a column letter ("A" -> 1, "AA" -> 27)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def fit_row_heights(ws, first_row: int, last_row: int, widths_by_column_letter: Mapping[str, float] | None = None,
                    default_width: float = 8.43) -> None:
    """Set ws.row_dimensions[r].height of an ordinary (not write-only) openpyxl worksheet from its cells.

    Widths not given come from ws.column_dimensions; hidden columns do not count. Only cells with wrap_text wrap
    (others print on one line, as Excel does); a merged region takes the top-left cell's text and the sum of its
    widths; a region reaching outside first_row..last_row counts only for the rows inside. Heights stop at
    409 pt: text beyond that needs continuation rows (RowFitter.split) or a wider column.
    """
    n_cols = ws.max_column
    widths = [default_width] * n_cols
    hidden = set()
    for letter, dim in ws.column_dimensions.items():
        span = range(max(dim.min or column_index(letter), 1), min(dim.max or column_index(letter), n_cols) + 1)
        if dim.hidden:  # not printed: its texts need no room
            hidden.update(c - 1 for c in span)
        elif dim.width:
            for c in span:
                widths[c - 1] = dim.width
    for letter, width in (widths_by_column_letter or {}).items():
        c = column_index(letter)
        if c <= n_cols:
            widths[c - 1] = width
    rows, fonts = [], []
    for cells in ws.iter_rows(min_row=first_row, max_row=last_row, max_col=n_cols):
        values, sizes = [], []
        for c, cell in enumerate(cells):
            value = None if c in hidden else cell.value
            size = FONT_PT
            if type(value) is str:
                if not cell.has_style:
                    value = "0"  # does not wrap: one line, whatever its length
                else:
                    size = cell.font.sz or FONT_PT
                    if not cell.alignment.wrap_text:
                        value = "0"
            values.append(value)
            sizes.append(size)
        rows.append(values)
        fonts.append(sizes)
    merges = []
    for rng in ws.merged_cells.ranges:
        if rng.max_row < first_row or rng.min_row > last_row:
            continue
        r1, r2 = max(rng.min_row, first_row) - first_row, min(rng.max_row, last_row) - first_row
        if rng.min_row < first_row:  # its text sits above the block: the rows inside only need one line
            for r in range(r1, r2 + 1):
                for c in range(rng.min_col - 1, rng.max_col):
                    rows[r][c] = None
            continue
        merges.append((r1, rng.min_col - 1, r2, rng.max_col - 1))
    for r, height in enumerate(grid_heights(rows, widths, merges, fonts=fonts), first_row):
        ws.row_dimensions[r].height = height

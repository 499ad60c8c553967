"""Read the plan document (the text export of the Word file) into plain dictionaries.

The document has two halves that must agree: the body (三、主要任务, one paragraph per measure with its
责任部门 line) and the annex table (年度目标进度安排表, one row per measure with the three yearly targets).
Both are parsed independently so that their disagreements can be found, not silently papered over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CN_NUMERALS = "一二三四五六七八九十"
YEARS = (2025, 2026, 2027)

_BOOKMARK = re.compile(r"\[bookmark: [^\]]*\]")
_ACTION = re.compile(r"^（([一二三四五六七八九十])）(.+)$")
_MEASURE = re.compile(r"^(\d{1,2})\.(.+)$")
_SECTION = re.compile(r"^([一二三四五六七八九十])、(.+)$")


class PlanDocumentError(ValueError):
    """The text does not have the shape of the plan document; the message says where."""


@dataclass
class BodyMeasure:
    no: int
    title: str
    body: str
    departments: list[str]
    action_no: int


@dataclass
class AnnexRow:
    action_title: str  # empty where the cell is merged with the row above
    measure_no: int
    measure_title: str
    departments: list[str]
    targets: dict[int, str]
    line: int


@dataclass
class PlanDocument:
    title: str
    status: str
    preamble: str
    sections: dict[str, str]  # 指导思想, 工作目标 … by heading
    actions: list[tuple[int, str]]
    measures: list[BodyMeasure]
    safeguards: list[dict]
    annex_title: str
    annex: list[AnnexRow] = field(default_factory=list)


def cn_numeral_value(ch: str) -> int:
    return CN_NUMERALS.index(ch) + 1


def split_departments(text: str) -> list[str]:
    return [part.strip() for part in text.split("、") if part.strip()]


def _clean(line: str) -> str:
    return _BOOKMARK.sub("", line).strip()


def parse_document(text: str) -> PlanDocument:
    raw_lines = text.splitlines()
    lines = [_clean(line) for line in raw_lines]
    nonblank = [(i, line) for i, line in enumerate(lines) if line]
    if len(nonblank) < 10:
        raise PlanDocumentError("文本过短，不是行动计划文件")

    # Title block: the lines before the status line in full-width parentheses.
    head: list[str] = []
    status = ""
    cursor = 0
    for cursor, (_, line) in enumerate(nonblank):  # noqa: B007 - where the status line is, read after the loop
        if line.startswith("附件") and not head:
            continue
        m = re.fullmatch(r"（(.+稿)）", line)
        if m:
            status = m.group(1)
            break
        head.append(line)
    if not status:
        raise PlanDocumentError("未找到文件状态行（如“（征求意见稿）”）")
    title = "".join(head)
    preamble = nonblank[cursor + 1][1]

    sections: dict[str, str] = {}
    actions: list[tuple[int, str]] = []
    measures: list[BodyMeasure] = []
    safeguards: list[dict] = []
    annex_title = ""
    section = ""
    annex_start = None
    pending_measure: dict | None = None

    for pos in range(cursor + 2, len(nonblank)):
        lineno, line = nonblank[pos]
        if line == "附件":
            annex_title = nonblank[pos + 1][1]
            annex_start = nonblank[pos + 1][0] + 1
            break
        sm = _SECTION.match(line)
        if sm:
            section = sm.group(2)
            sections[section] = ""
            continue
        if section == "主要任务":
            am = _ACTION.match(line)
            if am:
                actions.append((cn_numeral_value(am.group(1)), am.group(2)))
                continue
            mm = _MEASURE.match(line)
            if mm:
                title_text, _, body = mm.group(2).partition("。")
                pending_measure = {
                    "no": int(mm.group(1)),
                    "title": title_text,
                    "body": body,
                    "line": lineno + 1,
                }
                continue
            if line.startswith("责任部门："):
                if pending_measure is None or not actions:
                    raise PlanDocumentError(f"第{lineno + 1}行：责任部门行之前没有改革措施")
                measures.append(BodyMeasure(
                    no=pending_measure["no"],
                    title=pending_measure["title"],
                    body=pending_measure["body"],
                    departments=split_departments(line.removeprefix("责任部门：")),
                    action_no=actions[-1][0],
                ))
                pending_measure = None
                continue
            raise PlanDocumentError(f"第{lineno + 1}行：无法识别的主要任务内容：{line[:30]}")
        if section == "保障措施":
            am = re.match(r"^（([一二三四五六七八九十])）([^。]+)。(.*)$", line)
            if not am:
                raise PlanDocumentError(f"第{lineno + 1}行：无法识别的保障措施：{line[:30]}")
            safeguards.append({"no": cn_numeral_value(am.group(1)), "title": am.group(2), "text": line})
            continue
        if section:
            sections[section] = (sections[section] + "\n" + line).strip()

    if annex_start is None:
        raise PlanDocumentError("未找到附件“年度目标进度安排表”")
    doc = PlanDocument(
        title=title,
        status=status,
        preamble=preamble,
        sections=sections,
        actions=actions,
        measures=measures,
        safeguards=safeguards,
        annex_title=annex_title,
    )
    doc.annex = _parse_annex(raw_lines, annex_start)
    return doc


def _parse_annex(raw_lines: list[str], start: int) -> list[AnnexRow]:
    """The annex rows are blocks of six tab-led cells separated by blank lines.

    The header (改革任务 | 改革措施 | 责任部门 | 年度目标 / 2025年 2026年 2027年) ends at the "2027年" cell.
    """
    pos = start
    while pos < len(raw_lines) and raw_lines[pos].strip() != "2027年":
        pos += 1
    if pos >= len(raw_lines):
        raise PlanDocumentError("附件表头缺少“2027年”列")
    rows: list[AnnexRow] = []
    block: list[tuple[int, str]] = []
    for lineno in range(pos + 1, len(raw_lines) + 1):
        raw = raw_lines[lineno] if lineno < len(raw_lines) else ""
        if raw.strip() == "" and not raw.startswith("\t"):
            if block:
                rows.append(_annex_row(block))
                block = []
            continue
        block.append((lineno + 1, _clean(raw.removeprefix("\t"))))
    return rows


def _annex_row(block: list[tuple[int, str]]) -> AnnexRow:
    first_line = block[0][0]
    if len(block) != 6:
        raise PlanDocumentError(f"附件第{first_line}行起的表格行应有6个单元格，实际{len(block)}个")
    cells = [cell for _, cell in block]
    mm = _MEASURE.match(cells[1])
    if not mm:
        raise PlanDocumentError(f"附件第{block[1][0]}行：改革措施单元格应以序号开头：{cells[1][:20]}")
    return AnnexRow(
        action_title=cells[0],
        measure_no=int(mm.group(1)),
        measure_title=mm.group(2),
        departments=split_departments(cells[2]),
        targets=dict(zip(YEARS, cells[3:6])),
        line=first_line,
    )

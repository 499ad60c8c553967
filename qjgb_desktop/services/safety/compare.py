"""Proof that a copied database equals its source: every table's row count and a digest of its rows in a canonical
form (the same on SQLite and PostgreSQL), compared table by table; `qjgb migrate-to` keeps a copy only when they
all agree.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import zip_longest

from sqlalchemy import JSON, Float, Table

from qjgb_desktop.services.safety.transfer import (
    MigrateError,
    Progress,
    _reading,
    _stream,
    content_names,
    data_tables,
    listed_contents,
)


class CopyMismatch(MigrateError):
    """The copy does not equal its source; it was rolled back."""

    def __init__(self, comparison: Comparison) -> None:
        self.comparison = comparison
        super().__init__("复制后的核对未通过：" + "；".join(comparison.differences()))


def _normalise(table: Table, row) -> list:
    """One row as plain JSON values that are equal for equal data on SQLite and PostgreSQL."""
    m = row._mapping
    out = []
    for c in table.columns:
        v = m[c.name]
        if isinstance(c.type, JSON):
            sql_null = bool(c.nullable and m[f"__null_{c.name}"])
            out.append(None if sql_null else ["json", json.dumps(v, sort_keys=True, ensure_ascii=False)])
        elif v is None or isinstance(v, (bool, str)):
            out.append(v)
        elif isinstance(v, datetime):
            out.append(["datetime", v.isoformat()])
        elif isinstance(v, date):
            out.append(["date", v.isoformat()])
        elif isinstance(c.type, Float):
            out.append(["float", float(v)])
        elif isinstance(v, int):
            out.append(v)
        elif isinstance(v, (bytes, memoryview)):
            out.append(["bytes", hashlib.sha256(bytes(v)).hexdigest()])
        else:
            out.append(["other", str(v)])
    return out


@dataclass
class TableCheck:
    name: str
    source_rows: int
    target_rows: int
    source_digest: str
    target_digest: str
    difference: str = ""  # the first row that differs, said in words

    @property
    def same(self) -> bool:
        return self.source_rows == self.target_rows and self.source_digest == self.target_digest


@dataclass
class Comparison:
    tables: list[TableCheck] = field(default_factory=list)
    contents_checked: int = 0
    contents_bad: list[str] = field(default_factory=list)  # listed, and missing or wrong in the target
    contents_missing_at_source: list[str] = field(default_factory=list)  # not there to copy (not a copy fault)

    @property
    def ok(self) -> bool:
        return all(t.same for t in self.tables) and not self.contents_bad

    def differences(self) -> list[str]:
        out = [f"数据表 {t.name}：{t.difference or '内容不同'}（源 {t.source_rows} 行，目标 {t.target_rows} 行）"
               for t in self.tables if not t.same]
        if self.contents_bad:
            out.append(f"佐证文件 {len(self.contents_bad)} 个与记录的 SHA-256 不符或缺失：" + "；".join(self.contents_bad[:5])
                       + (" 等" if len(self.contents_bad) > 5 else ""))
        return out

    def summary_lines(self, source_label: str = "源", target_label: str = "目标") -> list[str]:
        width = max([len(t.name) for t in self.tables] + [10])
        lines = [f"{_pad('数据表', width)}  {_pad(source_label, 8, right=True)}  {_pad(target_label, 8, right=True)}  核对"]
        for t in self.tables:
            lines.append(f"{t.name.ljust(width)}  {t.source_rows:>8}  {t.target_rows:>8}  {'一致' if t.same else '不一致'}")
        lines.append(f"佐证文件：在{target_label}上逐个重新计算 SHA-256 {self.contents_checked} 个，"
                     f"{'全部一致' if not self.contents_bad else f'{len(self.contents_bad)} 个不符'}")
        return lines


def _pad(text_: str, width: int, right: bool = False) -> str:
    """Pad for a terminal, where a Chinese character takes two columns."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text_)
    fill = " " * max(0, width - used)
    return fill + text_ if right else text_ + fill


def compare_databases(source, target, target_store=None, missing_ok: Iterable[str] = (),
                      progress: Progress | None = None) -> Comparison:
    """Prove that `target` holds what `source` holds (Engines or Connections; a Connection is read inside its
    transaction): rows per table, a digest of every table's rows, and with `target_store` every content the
    source lists re-hashed from the target (except `missing_ok`: contents the source itself did not have)."""
    result = Comparison()
    with _reading(source) as sconn, _reading(target) as tconn:
        tables = data_tables()
        for i, table in enumerate(tables, 1):
            if progress is not None:
                progress(f"核对数据表 {table.name}", i, len(tables))
            result.tables.append(_compare_table(table, sconn, tconn))
        if target_store is not None:
            missing_ok = set(missing_ok)
            names = content_names(sconn)
            listed = listed_contents(sconn)
            for i, sha in enumerate(listed, 1):
                if progress is not None:
                    progress("核对佐证文件", i, len(listed))
                if sha in missing_ok:
                    result.contents_missing_at_source.append(sha)
                    continue
                result.contents_checked += 1
                label = f"{names.get(sha, '?')}（{sha[:12]}…）"
                if not target_store.has(sha):
                    result.contents_bad.append(f"{label}缺失")
                elif target_store.hash_of(sha) != sha:
                    result.contents_bad.append(f"{label}内容不符")
    return result


def _compare_table(table: Table, sconn, tconn) -> TableCheck:
    ds, dt = hashlib.sha256(), hashlib.sha256()
    ns = nt = 0
    difference = ""
    pk = [c.name for c in table.primary_key.columns]
    for a, b in zip_longest(_stream(sconn, table), _stream(tconn, table)):
        ra = _normalise(table, a) if a is not None else None
        rb = _normalise(table, b) if b is not None else None
        if ra is not None:
            ns += 1
            ds.update(json.dumps(ra, ensure_ascii=False).encode("utf-8") + b"\n")
        if rb is not None:
            nt += 1
            dt.update(json.dumps(rb, ensure_ascii=False).encode("utf-8") + b"\n")
        if ra != rb and not difference:
            row = a if a is not None else b
            key = "、".join(f"{k}={row._mapping[k]}" for k in pk)
            if a is None or b is None:
                difference = f"主键 {key} 的一行只在{'目标' if a is None else '源'}中"
            else:
                cols = [c.name for c, x, y in zip(table.columns, ra, rb) if x != y]
                difference = f"主键 {key} 的一行不同（列 {'、'.join(cols) or '主键'}）"
    return TableCheck(table.name, ns, nt, ds.hexdigest(), dt.hexdigest(), difference)

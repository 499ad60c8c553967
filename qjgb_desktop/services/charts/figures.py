"""The charts, drawn with matplotlib's object API (Figure, no pyplot, no Qt): the window embeds these figures in
FigureCanvasQTAgg, the command line saves them. Imported only when a chart is first needed.

Every bar carries `gid` = the key a click selects and a label for hover; colours follow the state colours and
each state also has a hatch, so charts read in grey print and for colour-blind readers.
"""

from __future__ import annotations

from matplotlib import font_manager, rcParams
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from qjgb_desktop.domain.status import STATE_COLORS, STATE_HATCHES, STATES
from qjgb_desktop.services.charts.data import Bar, IndicatorSeries, Overview

# Preferred Chinese fonts by platform: Windows, Linux, macOS.
CJK_CANDIDATES = ("Microsoft YaHei", "DengXian", "SimHei", "Noto Sans CJK SC", "Source Han Sans SC",
                  "Source Han Sans CN", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "PingFang SC",
                  "Hiragino Sans GB", "Noto Sans SC", "Noto Serif CJK SC")
_chosen: list[str | None] = []
# The white ground under value labels (the dashed 应完成 line passes behind them, not through them).
LABEL_GROUND = {"boxstyle": "square,pad=0.12", "facecolor": "white", "edgecolor": "none", "alpha": 0.9}


def setup_fonts() -> str | None:
    """Put an installed CJK family after DejaVu Sans in font.family (a fallback list, so Latin stays DejaVu and
    every Chinese glyph is found). Returns the family, or None when no Chinese font is installed."""
    if _chosen:
        return _chosen[0]
    installed = {f.name for f in font_manager.fontManager.ttflist}
    family = next((name for name in CJK_CANDIDATES if name in installed), None)
    if family is None:  # a font installed after matplotlib built its cache
        font_manager.fontManager = font_manager.FontManager()
        installed = {f.name for f in font_manager.fontManager.ttflist}
        family = next((name for name in CJK_CANDIDATES if name in installed), None)
    rcParams["font.family"] = [family, "DejaVu Sans"] if family else ["DejaVu Sans"]
    rcParams["axes.unicode_minus"] = False
    rcParams["svg.fonttype"] = "none"
    rcParams["pdf.fonttype"] = 42
    _chosen.append(family)
    return family


NO_FONT_NOTICE = ("未找到中文字体，图表中的中文可能无法显示。请安装微软雅黑、黑体，或 Linux 上的 fonts-noto-cjk / "
                  "fonts-wqy-microhei，然后重新启动程序。")


def new_figure(width: float = 6.4, height: float = 3.6, dpi: int = 100) -> Figure:
    setup_fonts()
    # Fixed margins rather than constrained layout: the layout pass costs more than the drawing itself,
    # and these charts have known label sizes.
    return Figure(figsize=(width, height), dpi=dpi)


def elide_middle(text: str, limit: int) -> str:
    """At most `limit` characters, the middle replaced by …: both ends of a name stay (前… and …局)."""
    if len(text) <= limit:
        return text
    head = limit // 2
    tail = limit - 1 - head
    return text[:head] + "…" + (text[-tail:] if tail > 0 else "")


def text_width(texts, size: float) -> float:
    """The widest of these texts at this font size, in inches (measured with the chart fonts, no drawing)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    prop, measure = FontProperties(size=size), TextToPath()
    return max((measure.get_text_width_height_descent(t, prop, ismath=False)[0] for t in texts if t),
               default=0.0) / 72


def _margins(fig: Figure, left: float = 0.45, bottom: float = 0.5, top: float = 0.38, right: float = 0.15) -> None:
    """Margins in inches, kept whatever size the figure is given (the window resizes it): labels are never cut
    at a small window and do not float at a large one. relayout() applies them again after a resize."""
    fig._qjgb_margins = (left, bottom, top, right)
    relayout(fig)


def relayout(fig: Figure) -> None:
    """Margins (and elided titles) for the figure's current size; cheap, no drawing."""
    margins = getattr(fig, "_qjgb_margins", None)
    if margins is None:
        return
    left, bottom, top, right = margins
    w, h = fig.get_figwidth(), fig.get_figheight()
    lf, rf = min(left / w, 0.6), max(1 - right / w, min(left / w, 0.6) + 0.1)
    bf, tf = min(bottom / h, 0.45), max(1 - top / h, min(bottom / h, 0.45) + 0.1)
    fig.subplots_adjust(left=lf, right=rf, bottom=bf, top=tf)
    for artist, full, size in getattr(fig, "_qjgb_titles", []):
        room = (rf - lf) * w + left * 0.8  # a left-aligned title may start over the tick labels
        text = full
        while len(text) > 6 and text_width([text], size) > room:
            text = elide_middle(full, len(text) - 2)
        artist.set_text(text)


def _title(fig: Figure, ax, text: str, size: float = 11) -> None:
    """A title elided in the middle to the figure's width; the whole text is its hover text."""
    artist = ax.set_title(text, fontsize=size, loc="left")
    fig._qjgb_titles = [t for t in getattr(fig, "_qjgb_titles", []) if t[0] is not artist] + [(artist, text, size)]
    relayout(fig)


def _full_texts(fig: Figure, pairs) -> None:
    """(text artist, whole text) of labels shown elided: hovering one shows the whole text."""
    fig._qjgb_full_texts = list(pairs)


def _style(ax, title: str) -> None:
    _title(ax.figure, ax, title)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=9)


def _state_bar(bar_artist, state: str, key: str, hover: str) -> None:
    bar_artist.set_facecolor(STATE_COLORS.get(state, "#999999"))
    bar_artist.set_hatch(STATE_HATCHES.get(state, ""))
    bar_artist.set_edgecolor("#333333")
    bar_artist.set_linewidth(0.6)
    bar_artist.set_gid(key)
    bar_artist.set_picker(True)
    bar_artist.set_label(hover)  # what hovering shows (set_label is not drawn: the charts have no legend of bars)


def _reuse(fig: Figure, kind: str, structure) -> dict | None:
    """The artists of the last drawing when it had the same structure (same kind, same categories), so a
    refresh only moves bars and changes texts: building axes and ticks costs more than drawing them.
    Otherwise the figure is cleared for a new drawing."""
    memo = getattr(fig, "_qjgb_memo", None)
    if memo is not None and memo["kind"] == kind and memo["structure"] == structure:
        return memo
    fig.clear()
    fig._qjgb_memo = None
    fig._qjgb_titles = []
    fig._qjgb_full_texts = []
    return None


def _remember(fig: Figure, kind: str, structure, **artists) -> None:
    fig._qjgb_memo = {"kind": kind, "structure": structure, **artists}


def draw_overview(fig: Figure, ov: Overview) -> None:
    hover = f"总体完成度 {ov.percent:g}%，{ov.state}；应完成约 {ov.expected:g}%"
    memo = _reuse(fig, "overview", None)
    if memo is None:
        ax = fig.add_subplot()
        _margins(fig, left=0.2, bottom=0.5)
        _style(ax, "")
        bar = ax.barh([0], [1], height=0.5)[0]
        line = ax.axvline(0, color="#222222", linestyle="--", linewidth=1.2, zorder=2)
        # Labels sit on a white ground above the dashed 应完成 line: the line never runs through their figures.
        expected_text = ax.text(0, 0.36, "", ha="left", va="center", fontsize=9, zorder=4, bbox=LABEL_GROUND)
        value_text = ax.text(0, 0, "", va="center", fontsize=10, zorder=4, bbox=LABEL_GROUND)
        ax.set_xlim(0, 125)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.set_ylim(-0.5, 0.5)
        ax.set_yticks([])
        ax.set_xlabel("完成度（%）", fontsize=9)
        _remember(fig, "overview", None, ax=ax, bar=bar, line=line, expected_text=expected_text,
                  value_text=value_text)
        memo = fig._qjgb_memo
    _title(fig, memo["ax"], f"{ov.year}年总体完成度（{ov.today.isoformat()}）")
    memo["bar"].set_width(max(ov.percent, 1.0))
    _state_bar(memo["bar"], ov.state, "plan", hover)
    memo["line"].set_xdata([ov.expected, ov.expected])
    memo["expected_text"].set_x(ov.expected + 1)
    memo["expected_text"].set_text(f"应完成 {ov.expected:g}%")
    memo["value_text"].set_x(min(ov.percent, 100) + 1)
    memo["value_text"].set_text(f"{ov.percent:g}% · {ov.state}")


def draw_bars(fig: Figure, bars: list[Bar], title: str, expected: float | None = None, unit_label: str = "完成度（%）"
              ) -> None:
    """Horizontal bars, one per action/department/target, top to bottom in the given order."""
    labels = [elide_middle(b.label, 16) for b in bars]
    memo = _reuse(fig, "bars", (tuple(labels), expected is not None, unit_label))
    if memo is None:
        ax = fig.add_subplot()
        # The left margin is the widest label's own width: no label is cut, whatever the window's width.
        _margins(fig, left=text_width(labels, 9) + 0.25, bottom=0.5)  # + the ticks and their pad
        _style(ax, title)
        if not bars:
            ax.text(0.5, 0.5, "暂无数据", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            return
        ys = list(range(len(bars)))[::-1]
        artists = list(ax.barh(ys, [1.0] * len(bars), height=0.6))
        texts = [ax.text(0, y, "", va="center", fontsize=8, zorder=4, bbox=LABEL_GROUND) for y in ys]
        ax.set_yticks(ys, labels, fontsize=9)
        _full_texts(fig, [(t, b.label) for t, b in zip(ax.get_yticklabels(), bars) if len(b.label) > 16])
        line = ax.axvline(0, color="#222222", linestyle="--", linewidth=1, zorder=2) if expected is not None else None
        ax.set_xlim(0, 125)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.set_xlabel(unit_label, fontsize=9)
        _remember(fig, "bars", (tuple(labels), expected is not None, unit_label), ax=ax, artists=artists,
                  texts=texts, line=line)
        memo = fig._qjgb_memo
    _title(fig, memo["ax"], title)
    for artist, text, b in zip(memo["artists"], memo["texts"], bars):
        # A sliver for 0%, so every row has a bar to see, hover and click; the label gives the true figure.
        artist.set_width(max(b.percent, 1.0))
        flags = f"，红 {b.red} · 黄 {b.yellow}" if (b.red or b.yellow) else ""
        _state_bar(artist, b.state, b.key, f"{b.label}：{b.percent:g}%，{b.state}{flags}")
        text.set_x(max(b.percent, 1.0) + 1.5)  # clear of the bar (and of the sliver drawn for 0 %)
        text.set_text(f"{b.percent:g}% {b.state}" + (f"（红{b.red} 黄{b.yellow}）" if (b.red or b.yellow) else ""))
    if memo["line"] is not None:
        memo["line"].set_xdata([expected, expected])


def draw_distribution(fig: Figure, counts: dict[str, int], year: int) -> None:
    states = [s for s in STATES if counts.get(s)] or list(STATES)
    memo = _reuse(fig, "distribution", tuple(states))
    if memo is None:
        ax = fig.add_subplot()
        _margins(fig, left=0.6, bottom=0.4)
        _style(ax, "")
        artists = list(ax.bar(range(len(states)), [0] * len(states), width=0.6))
        texts = [ax.text(a.get_x() + a.get_width() / 2, 0, "", ha="center", fontsize=9) for a in artists]
        ax.set_xticks(range(len(states)), states, fontsize=9)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        ax.set_ylabel("年度目标（项）", fontsize=9)
        _remember(fig, "distribution", tuple(states), ax=ax, artists=artists, texts=texts)
        memo = fig._qjgb_memo
    ax = memo["ax"]
    _title(fig, ax, f"{year}年度目标状态分布")
    for artist, text, state in zip(memo["artists"], memo["texts"], states):
        n = counts.get(state, 0)
        artist.set_height(n)
        _state_bar(artist, state, state, f"{state}：{n} 项")
        text.set_y(n + 0.2)
        text.set_text(str(n))
    ax.set_ylim(0, max([counts.get(s, 0) for s in states] + [1]) * 1.15)


def draw_activity(fig: Figure, months: list[tuple[str, int]]) -> None:
    structure = tuple(m for m, _ in months)
    memo = _reuse(fig, "activity", structure)
    if memo is None:
        ax = fig.add_subplot()
        _margins(fig, left=0.6, bottom=0.62)
        _style(ax, "每月填报数量")
        artists = list(ax.bar(range(len(months)), [0] * len(months), width=0.7, color="#56B4E9",
                              edgecolor="#333333", linewidth=0.4))
        step = max(1, -(-len(months) // 8))  # at most 8 month labels: each tick costs drawing time
        ax.set_xticks(range(0, len(months), step), [m for m, _ in months][::step], rotation=30, ha="right",
                      fontsize=8)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        ax.set_ylabel("报告（份）", fontsize=9)
        _remember(fig, "activity", structure, ax=ax, artists=artists)
        memo = fig._qjgb_memo
    for artist, (month, n) in zip(memo["artists"], months):
        artist.set_height(n)
        artist.set_gid(month)
        artist.set_label(f"{month}：{n} 份报告")
        artist.set_picker(True)
    memo["ax"].set_ylim(0, max([n for _, n in months] + [1]) * 1.1)


def draw_indicator(fig: Figure, s: IndicatorSeries) -> None:
    """Target against actual per year; for ≤ indicators (平均年龄) the reading is 'lower is better'."""
    _reuse(fig, "indicator", object())  # always drawn afresh (few, small)
    ax = fig.add_subplot()
    sign = {">=": "≥", "<=": "≤", "=": "="}[s.comparator]
    reading = "越低越好" if s.comparator == "<=" else "越高越好" if s.comparator == ">=" else "等于目标"
    _style(ax, f"措施{s.measure_no} {s.name}（{s.unit}，{reading}）")
    xs = list(range(len(s.years)))
    width = 0.36
    for i, (t, a, met) in enumerate(zip(s.targets, s.actuals, s.met)):
        if t is not None:
            bar = ax.bar(i - width / 2, t, width, color="#FFFFFF", edgecolor="#333333", hatch="//")[0]
            bar.set_gid(f"target-{s.years[i]}")
            bar.set_label(f"{s.years[i]}年目标：{sign} {t:g}{s.unit}")
            ax.text(i - width / 2, t, f"{sign}{t:g}", ha="center", va="bottom", fontsize=8)
        if a is not None:
            state = "已完成" if met else "滞后" if met is False else "未填报"
            bar = ax.bar(i + width / 2, a, width)[0]
            _state_bar(bar, state, f"actual-{s.years[i]}", f"{s.years[i]}年实际：{a:g}{s.unit}" +
                       ("（达标）" if met else "（未达标）" if met is False else ""))
            ax.text(i + width / 2, a, f"{a:g}" + (" ✓" if met else " ✕" if met is False else ""), ha="center",
                    va="bottom", fontsize=8)
    ax.set_xticks(xs, [f"{y}年" for y in s.years])
    values = [v for v in (*s.targets, *s.actuals) if v is not None]
    # Bars start at 0, always: heights then compare as the numbers do (21/22/23 are not 1:2:3). The labels on
    # the bars give the exact figures; the room on top keeps them and the legend clear of the bars.
    high = max(values + [0])
    ax.set_ylim(0, high * 1.3 if high > 0 else 1)
    handles = [Patch(facecolor="#FFFFFF", edgecolor="#333333", hatch="//", label="目标"),
               Patch(facecolor=STATE_COLORS["已完成"], edgecolor="#333333", label="实际（达标）"),
               Patch(facecolor=STATE_COLORS["滞后"], edgecolor="#333333", hatch="xx",
                                        label="实际（未达标）")]
    ax.legend(handles=handles, fontsize=8, loc="upper left", frameon=False, ncol=3)
    ax.set_ylabel(s.unit, fontsize=9)
    ticks = [f"{v:g}" for v in ax.get_yticks()]
    _margins(fig, left=text_width(ticks, 9) + (0.45 if s.unit else 0.2), bottom=0.45)


def hover_text(fig: Figure, event) -> str | None:
    """The label of the bar under a mouse event, or the whole text of an elided label or title, for tooltips."""
    for artist, full in [*getattr(fig, "_qjgb_full_texts", []),
                         *[(t, full) for t, full, _size in getattr(fig, "_qjgb_titles", [])]]:
        if artist.get_text() != full and artist.get_visible() and artist.contains(event)[0]:
            return full
    for ax in fig.axes:
        if event.inaxes is not ax:
            continue
        for artist in ax.patches:
            if artist.get_picker() and artist.contains(event)[0]:
                return artist.get_label()
    return None


def save(fig: Figure, path) -> None:
    """PNG, SVG or PDF by the file's ending; the margins are kept as drawn. Written to a temporary file first:
    a failure leaves the old file or none."""
    from pathlib import Path

    from qjgb_desktop.store.files import write_atomically

    path = Path(path)
    write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=150, format=path.suffix.lstrip(".").lower() or "png"))

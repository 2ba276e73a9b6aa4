"""Quarterly statistics as report text, a Telegram message, a chart and office files.

Staff edit the wording in bot/templates/ (Jinja2); this module only computes what the
templates show, so a change of phrasing never needs a programmer. No Telegram imports: the
staff command and the command line both call these functions.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from bot.reports.export import fill_rows_sheet, sheet_name
from bot.reports.labels import Labels, environment_for, load_labels
from bot.reports.stats import QuarterStats
from bot.store.statistics import ConsultationRow
from bot.templating import (
    format_number,
)
from bot.topics import TOPIC_LABELS

if TYPE_CHECKING:
    pass  # a type only: the queries live in bot/store

SECTION_TEMPLATE = "report_section.txt.j2"
MESSAGE_TEMPLATE = "stats_message.html.j2"
TELEGRAM_LIMIT = 4000
TITLE_CHARS = 80  # longer entry titles are cut in the Telegram message
DATE = "%d/%m/%Y"
# Key figures that are fractions, shown as percentages in the workbook.
PERCENT_FIGURES = frozenset({"helpful_ratio", "change"})


@dataclass(frozen=True)
class Comparison:
    """The previous quarter as the templates see it."""

    trend: str | None  # "up", "down", "same", "new" (previous had none), None (no figures)
    quarter: str
    total: int
    change: float


@dataclass(frozen=True)
class TopicLine:
    label: str
    count: int
    askers: int


@dataclass(frozen=True)
class MonthLine:
    label: str
    count: int


@dataclass(frozen=True)
class EntryLine:
    title: str
    count: int


@dataclass(frozen=True)
class TopGroup:
    label: str
    entries: list[EntryLine]


def _in_sentence(label: str) -> str:
    """ "Quý III/2026" -> "quý III/2026", as written mid-sentence."""
    return label[:1].lower() + label[1:]


def _shorten(text: str, limit: int = TITLE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _comparison(stats: QuarterStats) -> Comparison:
    previous = stats.previous
    if previous is None:
        return Comparison(None, "", 0, 0.0)
    quarter = _in_sentence(previous.quarter.label)
    if previous.enquiries == 0:
        trend = "new" if stats.enquiries else "same"
        return Comparison(trend, quarter, 0, 0.0)
    change = stats.change or 0.0
    trend = "up" if change > 0 else "down" if change < 0 else "same"
    return Comparison(trend, quarter, previous.enquiries, abs(change))


def _context(
    stats: QuarterStats, agency_name: str, labels: Labels, top_entries: int = 5
) -> dict[str, Any]:
    topics = [
        TopicLine(labels.topic(topic), count, stats.askers_by_topic.get(topic, 0))
        for topic, count in stats.by_topic.items()
        if count or topic in TOPIC_LABELS
    ]
    months = [
        MonthLine(labels.month(month), sum(counts.values()))
        for month, counts in stats.by_month.items()
    ]
    top = [
        TopGroup(
            labels.topic(topic),
            [EntryLine(_shorten(entry.title), entry.count) for entry in entries[:top_entries]],
        )
        for topic, entries in stats.top_entries.items()
        if entries and top_entries > 0
    ]
    return {
        "agency_name": agency_name,
        "quarter": _in_sentence(stats.quarter.label),
        "quarter_label": stats.quarter.label,
        "first_day": stats.quarter.first_day.strftime(DATE),
        "last_day": stats.quarter.last_day.strftime(DATE),
        "total": stats.enquiries,
        "askers": stats.askers,
        "people": stats.people,
        "organisations": stats.organisations,
        "answered": stats.answered,
        "answered_by_bot": stats.answered_by_bot,
        "answered_by_staff": stats.answered_by_staff,
        "unanswered": stats.unanswered,
        "handed_off": stats.handed_off,
        "median_staff_answer": stats.median_staff_answer,
        "helpful": stats.helpful,
        "not_helpful": stats.not_helpful,
        "helpful_ratio": stats.helpful_ratio,
        "bulletins": stats.bulletins,
        "recipients": stats.bulletin_recipients,
        "askers_in": {k: v for k, v in stats.askers_by_topic.items() if k is not None},
        "enquiries_in": {k: v for k, v in stats.by_topic.items() if k is not None},
        "previous": _comparison(stats),
        "topics": topics,
        "months": months,
        "top": top,
    }


def _paragraphs(text: str) -> list[str]:
    """Template text -> paragraphs: lines join into one paragraph, blank lines separate them."""
    blocks = re.split(r"\n\s*\n", text)
    joined = (
        " ".join(line.strip() for line in block.splitlines() if line.strip()) for block in blocks
    )
    return [paragraph for paragraph in joined if paragraph]


def report_sentences(stats: QuarterStats, agency_name: str, templates: Path | None = None) -> str:
    """The report section for the quarter, paragraphs separated by a blank line."""
    labels = load_labels(templates, stats.quarter.label, agency_name)
    template = environment_for(templates).get_template(SECTION_TEMPLATE)
    return "\n\n".join(_paragraphs(template.render(_context(stats, agency_name, labels))))


def summary_html(stats: QuarterStats, templates: Path | None = None) -> str:
    """The statistics message for staff on Telegram (only <b> and <i>, under 4,000 chars)."""
    labels = load_labels(templates, stats.quarter.label)
    template = environment_for(templates).get_template(MESSAGE_TEMPLATE)
    longest = max((len(entries) for entries in stats.top_entries.values()), default=0)
    text = ""
    # Drop frequent questions one rank at a time until the message fits.
    for top_entries in range(longest, -1, -1):
        rendered = template.render(_context(stats, "", labels, top_entries))
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in rendered.splitlines()))
        text = text.strip()
        if len(text) < TELEGRAM_LIMIT:
            break
    return text


# --- chart -------------------------------------------------------------------------------------


def _chart_topics(stats: QuarterStats) -> list[str | None]:
    return [topic for topic, count in stats.by_topic.items() if count or topic in TOPIC_LABELS]


def chart_png(stats: QuarterStats, templates: Path | None = None) -> bytes:
    """Grouped bars: enquiries per topic in each month of the quarter."""
    labels = load_labels(templates, stats.quarter.label)
    topics = _chart_topics(stats)
    months = list(stats.by_month)
    figure = Figure(figsize=(9, 5), dpi=120, layout="constrained")
    FigureCanvasAgg(figure)  # Agg without pyplot: no global state, safe in a worker thread
    axes = figure.add_subplot()
    width = 0.8 / max(len(topics), 1)
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#7f7f7f"]
    for index, topic in enumerate(topics):
        counts = [stats.by_month[month].get(topic, 0) for month in months]
        offset = (index - (len(topics) - 1) / 2) * width
        bars = axes.bar(
            [position + offset for position in range(len(months))],
            counts,
            width,
            label=labels.topic(topic),
            color=palette[index % len(palette)],
        )
        axes.bar_label(bars, labels=[str(c) if c else "" for c in counts], fontsize=8)
    axes.set_xticks(range(len(months)), [labels.month(month) for month in months])
    axes.set_ylabel(labels["chart_ylabel"])
    axes.set_title(labels["chart_title"])
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(
        bottom=0, top=max(1, *(max(c.values(), default=0) for c in stats.by_month.values())) * 1.15
    )
    axes.spines[["top", "right"]].set_visible(False)
    if stats.enquiries == 0:
        axes.text(0.5, 0.5, labels["chart_empty"], transform=axes.transAxes, ha="center")
    axes.legend(fontsize=8, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.08))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


# --- the report files --------------------------------------------------------------------------


def _table_rows(stats: QuarterStats, labels: Labels) -> list[list[Any]]:
    """Topic x month counts with a total column and a total row, first row the header."""
    months = list(stats.by_month)
    header = [labels["topic_header"], *(labels.month(m) for m in months), labels["total_header"]]
    body = [
        [labels.topic(topic), *(stats.by_month[m].get(topic, 0) for m in months), count]
        for topic, count in stats.by_topic.items()
        if count or topic in TOPIC_LABELS or topic is None
    ]
    totals = [sum(stats.by_month[m].values()) for m in months]
    return [header, *body, [labels["total_row"], *totals, stats.enquiries]]


def _key_figures(stats: QuarterStats) -> dict[str, Any]:
    median = stats.median_staff_answer
    previous = stats.previous
    return {
        "enquiries": stats.enquiries,
        "people": stats.people,
        "organisations": stats.organisations,
        "askers": stats.askers,
        "answered_by_bot": stats.answered_by_bot,
        "answered_by_staff": stats.answered_by_staff,
        "unanswered": stats.unanswered,
        "handed_off": stats.handed_off,
        "median_staff_hours": round(median.total_seconds() / 3600, 2) if median else None,
        "helpful": stats.helpful,
        "not_helpful": stats.not_helpful,
        "helpful_ratio": stats.helpful_ratio,
        "bulletins": stats.bulletins,
        "bulletin_recipients": stats.bulletin_recipients,
        "previous_enquiries": previous.enquiries if previous else None,
        "change": stats.change,
    }


def _write_docx(
    path: Path,
    stats: QuarterStats,
    agency_name: str,
    paragraphs: Iterable[str],
    labels: Labels,
    chart: bytes,
) -> None:
    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"  # the font of Vietnamese administrative documents
    normal.font.size = Pt(13)
    agency = document.add_paragraph()
    agency.alignment = WD_ALIGN_PARAGRAPH.CENTER
    agency.add_run(agency_name.upper()).bold = True
    title = document.add_heading(labels["document_title"], level=1)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    subtitle = document.add_paragraph()
    subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
    subtitle.add_run(labels["document_subtitle"]).italic = True
    for text in paragraphs:
        paragraph = document.add_paragraph(text)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        paragraph.paragraph_format.first_line_indent = Cm(1)
    document.add_heading(labels["table_title"], level=2)
    rows = _table_rows(stats, labels)
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            cell = table.cell(r, c)
            cell.text = format_number(value) if isinstance(value, int) else str(value)
            if r == 0 or r == len(rows) - 1:
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            if c > 0:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_heading(labels["chart_heading"], level=2)
    document.add_picture(io.BytesIO(chart), width=Cm(16))
    document.save(str(path))


def _write_xlsx(
    path: Path,
    stats: QuarterStats,
    agency_name: str,
    labels: Labels,
    rows: Sequence[ConsultationRow],
) -> None:
    workbook = Workbook()
    summary = workbook.active
    summary.title = sheet_name(labels["summary_sheet"])
    summary.append([labels["document_title"]])
    summary["A1"].font = Font(bold=True, size=13)
    summary.append([agency_name])
    summary.append([])
    table = _table_rows(stats, labels)
    first = summary.max_row + 1
    for values in table:
        summary.append(values)
    for row in (first, first + len(table) - 1):
        for cell in summary[row]:
            cell.font = Font(bold=True)
    summary.append([])
    summary.append([labels["key_figures_title"]])
    summary.cell(summary.max_row, 1).font = Font(bold=True)
    summary.append([labels["figure_header"], labels["value_header"]])
    for cell in summary[summary.max_row]:
        cell.font = Font(bold=True)
    names = labels.mapping("key_figures")
    for key, value in _key_figures(stats).items():
        summary.append([names.get(key, key), value])
        if key in PERCENT_FIGURES:
            summary.cell(summary.max_row, 2).number_format = "0.0%"
    summary.column_dimensions["A"].width = 48
    for index in range(2, len(table[0]) + 1):
        summary.column_dimensions[get_column_letter(index)].width = 12

    fill_rows_sheet(workbook.create_sheet(sheet_name(labels["rows_sheet"])), rows, labels)
    workbook.save(path)


def write_report(
    stats: QuarterStats,
    out_dir: Path,
    agency_name: str,
    templates: Path | None = None,
    consultations_rows: list[ConsultationRow] | None = None,
) -> list[Path]:
    """Write report.docx, report.xlsx and chart.png into out_dir; return their paths.

    `consultations_rows` (from `consultation_rows` over the quarter) fill the "Lượt tư vấn"
    sheet; without them the sheet has its header only.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = load_labels(templates, stats.quarter.label, agency_name)
    chart = chart_png(stats, templates)
    paragraphs = report_sentences(stats, agency_name, templates).split("\n\n")
    docx_path = out_dir / "report.docx"
    xlsx_path = out_dir / "report.xlsx"
    png_path = out_dir / "chart.png"
    _write_docx(docx_path, stats, agency_name, paragraphs, labels, chart)
    _write_xlsx(xlsx_path, stats, agency_name, labels, consultations_rows or [])
    png_path.write_bytes(chart)
    return [docx_path, xlsx_path, png_path]

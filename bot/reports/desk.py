"""The quarter's figures and the report files as the channels ask for them: async, the queries
and the rendering in a worker thread."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.reports.documents import chart_png, write_report
from bot.reports.export import export_files
from bot.reports.stats import Quarter, QuarterStats, quarter_stats
from bot.store.statistics import consultation_rows

if TYPE_CHECKING:
    from sqlalchemy import Engine  # a type only: the queries live in bot/store


class ReportDesk:
    def __init__(
        self, engine: Engine, settings: Settings, titles: Callable[[], Mapping[str, str]]
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._titles = titles  # entry id -> title, of the knowledge base in service

    async def quarter(self, quarter: Quarter) -> QuarterStats:
        return await asyncio.to_thread(quarter_stats, self._engine, quarter, self._titles())

    async def chart(self, stats: QuarterStats) -> bytes:
        return await asyncio.to_thread(chart_png, stats)

    async def export(self, start: dt.datetime, end: dt.datetime) -> tuple[bytes, bytes]:
        """The log between two naive UTC times, as .xlsx and .csv."""
        return await asyncio.to_thread(export_files, self._engine, start, end)

    async def report(self, stats: QuarterStats, folder: Path) -> list[Path]:
        """report.docx, report.xlsx and the chart for the department's quarterly report."""

        def work() -> list[Path]:
            quarter = stats.quarter
            rows = consultation_rows(self._engine, quarter.start, quarter.end)
            settings = self._settings
            return write_report(stats, folder, settings.agency.name, settings.templates_path, rows)

        return await asyncio.to_thread(work)

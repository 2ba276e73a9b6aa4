"""The wording of the report files and the chart, which staff keep in
bot/templates/report_labels.txt.j2."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from bot.templating import environment
from bot.topics import TOPIC_LABELS

LABELS_TEMPLATE = "report_labels.txt.j2"


def environment_for(templates: Path | None) -> jinja2.Environment:
    return environment(templates)


@dataclass(frozen=True)
class Labels:
    """Wording of the files and the chart, read from report_labels.txt.j2."""

    values: Mapping[str, Any]

    def __getitem__(self, name: str) -> str:
        return str(self.values[name]).strip()

    def mapping(self, name: str) -> dict[str, str]:
        return {str(key): str(value) for key, value in self.values[name].items()}

    def month(self, month: int) -> str:
        return str(self.values["month_name"](month)).strip()

    def topic(self, topic: str | None) -> str:
        if topic is None:
            return self["unclassified"]
        return TOPIC_LABELS.get(topic, topic)


def load_labels(
    templates: Path | None = None, quarter_label: str = "", agency_name: str = ""
) -> Labels:
    """Read the wording staff keep in report_labels.txt.j2 (its top-level `set`s)."""
    template = environment_for(templates).get_template(LABELS_TEMPLATE)
    module = template.make_module({"quarter_label": quarter_label, "agency_name": agency_name})
    values = {name: getattr(module, name) for name in dir(module) if not name.startswith("_")}
    return Labels(values)

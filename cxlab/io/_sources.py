"""``params/sources.yaml``: validated model of how export columns map to codebook items."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from cxlab.config import Codebook, Strict, load_params
from cxlab.errors import ParamsError

__all__ = ["ColumnRule", "FieldRule", "ItemRule", "SurveySource", "Sources", "TableColumn",
           "TableSpec", "load_sources"]


def _check_regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as err:
            raise ValueError(f"invalid regular expression {value!r}: {err}") from None
    return value


class ColumnRule(Strict):
    """Names one column of an export by exactly one of column, label, pattern, label_pattern."""

    column: str | None = None
    label: str | None = None
    pattern: str | None = None
    label_pattern: str | None = None

    _v_pattern = field_validator("pattern", "label_pattern")(_check_regex)

    @model_validator(mode="after")
    def _one_selector(self) -> ColumnRule:
        given = [k for k in ("column", "label", "pattern", "label_pattern")
                 if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "a column rule needs exactly one of column, label, pattern, label_pattern "
                f"(got {given or 'none'})"
            )
        return self

    def describe(self) -> str:
        for k in ("column", "label", "pattern", "label_pattern"):
            v = getattr(self, k)
            if v is not None:
                return f"{k} {v!r}"
        return "?"  # pragma: no cover


class FieldRule(ColumnRule):
    """A metadata field (response id, customer id, …); ``template`` formats the value and
    ``values`` recodes raw values to the canonical vocabulary (others pass through unchanged)."""

    template: str | None = None
    values: dict[str, str] = Field(default_factory=dict)

    @field_validator("template")
    @classmethod
    def _check_template(cls, v: str | None) -> str | None:
        if v is not None:
            names = set(re.findall(r"{(\w*)}", v))
            if not names <= {"period", "value"} or "value" not in names:
                raise ValueError(
                    f"template {v!r} may use only {{period}} and {{value}}, and must use {{value}}"
                )
        return v


class ItemRule(ColumnRule):
    """Maps a column to a codebook item (``item``), or by the captured label when ``item`` is absent."""

    item: str | None = None
    other_text: str | None = None   # column holding the "other, please specify" text

    @model_validator(mode="after")
    def _needs_item_or_label_group(self) -> ItemRule:
        if self.item is None:
            if self.label_pattern is None or "(?P<label>" not in self.label_pattern:
                raise ValueError(
                    "a rule without `item` must be a label_pattern with a (?P<label>…) group"
                )
        return self


class SurveySource(Strict):
    readers: list[str] = Field(min_length=1)
    label_prefix: str | None = None
    missing: list[str] = Field(default_factory=list)
    multi_sep: str = "┋"
    response_id: FieldRule
    customer_id: FieldRule | None = None
    branch: FieldRule | None = None
    submitted_at: list[FieldRule] = Field(default_factory=list)
    channel: FieldRule | None = None
    pii: list[ColumnRule] = Field(default_factory=list)
    ignore: list[ColumnRule] = Field(default_factory=list)
    auto_labels: bool = True
    items: list[ItemRule] = Field(default_factory=list)

    _v_prefix = field_validator("label_prefix")(_check_regex)


ColumnType = Literal["str", "int", "float", "date", "datetime", "branch", "period"]


class TableColumn(Strict):
    type: ColumnType
    required: bool = False
    min: float | None = None
    max: float | None = None
    allowed: list[str | int] | None = None
    allow_future: bool = False      # dates: accept dates after today (forecasts, plans)


class TableSpec(Strict):
    files: list[str] = Field(min_length=1)
    key: str | list[str] | None = None
    pseudonymise: list[str] = Field(default_factory=list)
    pii: list[str] = Field(default_factory=list)
    partition_by: list[Literal["period", "branch"]] = Field(default_factory=list)
    columns: dict[str, TableColumn]

    @model_validator(mode="after")
    def _check(self) -> TableSpec:
        keys = [self.key] if isinstance(self.key, str) else list(self.key or [])
        for name in [*keys, *self.pseudonymise, *self.partition_by]:
            if name not in self.columns:
                raise ValueError(f"{name!r} is not one of the table's columns {sorted(self.columns)}")
        overlap = set(self.pii) & set(self.columns)
        if overlap:
            raise ValueError(f"columns {sorted(overlap)} are both pii (dropped) and kept")
        return self

    @property
    def key_columns(self) -> list[str]:
        return [self.key] if isinstance(self.key, str) else list(self.key or [])

    def matches(self, filename: str) -> bool:
        return any(fnmatch.fnmatch(filename, pat) for pat in self.files)


class Sources(Strict):
    """The whole ``params/sources.yaml``."""

    version: Literal[1]
    ignore_files: list[str] = Field(default_factory=list)
    period_from_filename: str | None = None
    surveys: dict[str, SurveySource]
    tables: dict[str, TableSpec] = Field(default_factory=dict)

    _v_period = field_validator("period_from_filename")(_check_regex)

    @model_validator(mode="after")
    def _check(self) -> Sources:
        seen: dict[str, str] = {}
        for name, spec in self.surveys.items():
            for r in spec.readers:
                if r in seen:
                    raise ValueError(f"reader format {r!r} is claimed by both {seen[r]!r} and {name!r}")
                seen[r] = name
        for reserved in ("responses",):
            if reserved in self.tables:
                raise ValueError(f"table name {reserved!r} is reserved for survey responses")
        return self

    def survey_for(self, reader_source: str) -> tuple[str, SurveySource]:
        for name, spec in self.surveys.items():
            if reader_source in spec.readers:
                return name, spec
        known = sorted(r for s in self.surveys.values() for r in s.readers)
        raise KeyError(f"no survey mapping for export format {reader_source!r} (known: {known})")

    def table_for(self, filename: str) -> str | None:
        for name, spec in self.tables.items():
            if spec.matches(filename):
                return name
        return None

    def ignored(self, filename: str) -> bool:
        return any(fnmatch.fnmatch(filename, pat) for pat in self.ignore_files)

    def check_items(self, codebook: Codebook, *, source: str = "sources.yaml") -> None:
        """Every ``item`` named by a rule must exist in the codebook."""
        for name, spec in self.surveys.items():
            for i, rule in enumerate(spec.items):
                if rule.item is not None and rule.item not in codebook.by_id:
                    raise ParamsError(
                        f"{source}: surveys.{name}.items.{i}.item: unknown codebook item "
                        f"{rule.item!r}"
                    )


def load_sources(path: str | Path = "params/sources.yaml", *,
                 codebook: Codebook | None = None) -> Sources:
    """Load and validate ``params/sources.yaml`` (and its item ids against ``codebook``)."""
    sources = load_params(path, Sources)
    if codebook is not None:
        sources.check_items(codebook, source=str(path))
    return sources

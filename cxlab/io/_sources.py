"""``params/sources.yaml``: validated model of how export columns map to codebook items."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from cxlab.config import Codebook, Strict, load_params
from cxlab.errors import ParamsError

__all__ = ["ColumnRule", "FieldRule", "ItemRule", "PositionRule", "SpreadRule", "SurveySource",
           "Sources", "TableColumn", "TableSpec", "load_sources"]


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
    """Maps a column to a codebook item (``item``), or by the captured label when ``item`` is
    absent (a ``label_pattern`` on the question text or a ``pattern`` on the column name, e.g.
    the matrix row of SurveyMonkey's ``"<question> - <row>"``)."""

    item: str | None = None
    other_text: str | None = None   # column holding the "other, please specify" text

    @model_validator(mode="after")
    def _needs_item_or_label_group(self) -> ItemRule:
        if self.item is None:
            rx = self.label_pattern or self.pattern
            if rx is None or "(?P<label>" not in rx:
                raise ValueError(
                    "a rule without `item` must be a label_pattern or pattern with a "
                    "(?P<label>…) group"
                )
        return self


def _check_group_regex(value: str | None, groups: tuple[str, ...]) -> str | None:
    _check_regex(value)
    if value is not None:
        missing = [g for g in groups if f"(?P<{g}>" not in value]
        if missing:
            raise ValueError(f"regular expression {value!r} needs the named group(s) "
                             f"{', '.join(f'(?P<{g}>…)' for g in missing)}")
    return value


class PositionRule(Strict):
    """Answers written as the chosen option's position in the question (1 = the first option
    shown): 问卷星 "按选项序号" exports, LimeSurvey's default answer codes ``A1, A2, …``.

    A cell matching ``pattern`` is decoded to the answer at that position of the item's option
    order: ``items[<item>]`` if given, else the codebook order (:meth:`Scale.shown_order`); the
    branch question uses ``branch`` (names or codes), else the branch order of ``org.yaml``.
    Other cells are converted as usual. A position outside the options is a row problem.
    """

    readers: list[str] | None = None        # reader formats answering by position; None = all
    pattern: str = r"^(?P<pos>[0-9]+)$"      # how a position is written; (?P<pos>…) is 1-based
    branch: list[str] | None = None
    items: dict[str, list[str | int]] = Field(default_factory=dict)

    @field_validator("pattern")
    @classmethod
    def _pos_group(cls, v: str) -> str:
        return _check_group_regex(v, ("pos",))  # type: ignore[return-value]

    def applies_to(self, reader: str | None) -> bool:
        return self.readers is None or reader in self.readers


class SpreadRule(Strict):
    """A multi-select exported as one column per option (问卷星 code export ``第N题(选项)`` 0/1
    columns, SurveyMonkey choice columns, LimeSurvey ``Q8[SQ001]`` = Y): the columns of one
    question are joined into the one ┋ text column that the rest of cxlab expects.

    ``pattern`` names the columns, with groups ``question`` (same value = same question) and
    ``option`` (the option's text, or its code when ``option_code`` is given). ``item`` is the
    codebook multi item; without it a question is joined only when every option names an option
    of exactly one multi item's scale. A cell in ``selected`` chooses the option, one in
    ``unselected`` (or empty) does not; with ``selected: []`` any non-empty cell chooses it.
    On the "other" option (the scale's last option, or the column whose option matches
    ``other``) any other non-empty cell is the respondent's free text: ``其他〖text〗``.
    """

    pattern: str
    item: str | None = None
    option_code: str | None = None          # e.g. '^SQ(?P<pos>[0-9]+)$': SQ001 = 1st option
    other: str | None = None                # e.g. '^other$' (LimeSurvey Q8[other])
    selected: list[str] = Field(default_factory=lambda: ["1", "Y"])
    unselected: list[str] = Field(default_factory=lambda: ["0", "N"])

    @field_validator("pattern")
    @classmethod
    def _groups(cls, v: str) -> str:
        return _check_group_regex(v, ("question", "option"))  # type: ignore[return-value]

    @field_validator("option_code")
    @classmethod
    def _code_group(cls, v: str | None) -> str | None:
        return _check_group_regex(v, ("pos",))

    _v_other = field_validator("other")(_check_regex)


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
    positions: PositionRule | None = None
    spread: list[SpreadRule] = Field(default_factory=list)
    # the platform's survey/project id in the export's file name, as a regex with a group
    # (?P<survey>…) (e.g. LimeSurvey's results-survey123456.csv); identifies the survey whose
    # response ids are numbered 1, 2, … (see cxlab/io/_survey.py)
    survey_from_filename: str | None = None

    _v_prefix = field_validator("label_prefix")(_check_regex)

    @field_validator("survey_from_filename")
    @classmethod
    def _survey_group(cls, v: str | None) -> str | None:
        return _check_group_regex(v, ("survey",))


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
    # a file with more than this share of its rows quarantined for one reason (or with no row
    # loaded) is reported as an alert and `cxlab ingest` exits 1
    quarantine_alert_share: float = Field(default=0.5, gt=0, le=1)

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
        """Every ``item`` named by a rule must exist in the codebook (a ``spread`` item must be a
        multi-select, a ``positions.items`` entry a scale answered by position)."""
        for name, spec in self.surveys.items():
            for i, rule in enumerate(spec.items):
                if rule.item is not None and rule.item not in codebook.by_id:
                    raise ParamsError(
                        f"{source}: surveys.{name}.items.{i}.item: unknown codebook item "
                        f"{rule.item!r}"
                    )
            for i, sp in enumerate(spec.spread):
                if sp.item is None:
                    continue
                where = f"{source}: surveys.{name}.spread.{i}.item"
                if sp.item not in codebook.by_id:
                    raise ParamsError(f"{where}: unknown codebook item {sp.item!r}")
                if codebook.scale_of(sp.item).kind != "multi":
                    raise ParamsError(f"{where}: {sp.item!r} is not a multi-select item")
            for item_id, answers in (spec.positions.items if spec.positions else {}).items():
                where = f"{source}: surveys.{name}.positions.items.{item_id}"
                if item_id not in codebook.by_id:
                    raise ParamsError(f"{where}: unknown codebook item {item_id!r}")
                scale = codebook.scale_of(item_id)
                if scale.kind not in ("ordinal", "numeric", "category"):
                    raise ParamsError(f"{where}: {item_id!r} is not a single-choice item "
                                      "(ordinal, numeric or category scale)")
                if scale.kind == "ordinal":
                    known = {str(k).strip().lower() for k in scale.label_to_code()}
                    bad = [a for a in answers if str(a).strip().lower() not in known]
                    if bad:
                        raise ParamsError(f"{where}: {bad[0]!r} is not an answer of scale "
                                          f"{codebook.item(item_id).scale} (allowed: "
                                          f"{', '.join(map(str, scale.codes or {}))} or their "
                                          "labels)")


def load_sources(path: str | Path = "params/sources.yaml", *,
                 codebook: Codebook | None = None) -> Sources:
    """Load and validate ``params/sources.yaml`` (and its item ids against ``codebook``)."""
    sources = load_params(path, Sources)
    if codebook is not None:
        sources.check_items(codebook, source=str(path))
    return sources

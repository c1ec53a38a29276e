"""The comment theme taxonomy (``params/text.yaml``) and its validated model."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from cxlab.config import Strict, load_params
from cxlab.text._resources import normalize

__all__ = ["THEME_IDS", "Taxonomy", "Theme", "load_taxonomy"]

#: Theme ids shared with the sample-data generator (docs/sample-data.md), in report order.
THEME_IDS = (
    "appearance", "usage", "function", "quality", "price", "delivery", "service_attitude",
    "response_speed", "resolution",
)


def _norm_words(words: list[str]) -> list[str]:
    out = []
    for w in words:
        w = normalize(str(w).strip())
        if not w:
            raise ValueError("keywords must be non-empty strings")
        out.append(w)
    return out


class Theme(Strict):
    """One theme: id, Chinese name and its keyword rules (matched clause by clause)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    keywords: list[str] = Field(min_length=1)
    weak: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    unless: list[str] = Field(default_factory=list)

    @field_validator("keywords", "weak", "exclude", "unless")
    @classmethod
    def _normalise(cls, v: list[str]) -> list[str]:
        return _norm_words(v)

    @field_validator("patterns")
    @classmethod
    def _compile(cls, v: list[str]) -> list[str]:
        for p in v:
            try:
                re.compile(p)
            except re.error as err:
                raise ValueError(f"invalid regular expression {p!r}: {err}") from None
        return v

    @cached_property
    def _screen(self) -> re.Pattern | None:
        """One regular expression for "any keyword or weak keyword occurs" (None with patterns).

        Masking ``exclude`` phrases only blanks characters out (with U+3000, which no
        normalised keyword contains), so a clause without any keyword before masking has none
        after it: :meth:`match` can skip it at once.
        """
        if self.patterns:
            return None
        return re.compile("|".join(re.escape(k) for k in [*self.keywords, *self.weak]))

    @cached_property
    def _exclude_longest_first(self) -> tuple[str, ...]:
        return tuple(sorted(self.exclude, key=len, reverse=True))

    def match(self, clause: str) -> tuple[list[str], list[str]]:
        """(strong, weak) keywords/patterns of this theme found in one normalised clause."""
        screen = self._screen
        if screen is not None and screen.search(clause) is None:
            return [], []
        if any(u in clause for u in self.unless):
            return [], []
        for phrase in self._exclude_longest_first:
            clause = clause.replace(phrase, "\u3000" * len(phrase))
        found = [k for k in self.keywords if k in clause]
        for p in self.patterns:
            m = re.search(p, clause)
            if m:
                found.append(m.group(0))
        return found, [k for k in self.weak if k in clause]


class Taxonomy(Strict):
    """The theme taxonomy of ``params/text.yaml``."""

    version: int = 1
    themes: list[Theme] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Taxonomy:
        seen: set[str] = set()
        for t in self.themes:
            if t.id in seen:
                raise ValueError(f"duplicate theme id {t.id!r}")
            seen.add(t.id)
        return self

    @cached_property
    def names(self) -> dict[str, str]:
        """Theme id → Chinese name."""
        return {t.id: t.name for t in self.themes}

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.themes]


_CACHE: dict[tuple[str, float], Taxonomy] = {}


def load_taxonomy(path: str | Path = "params/text.yaml") -> Taxonomy:
    """Load and validate the theme taxonomy (cached per file path and modification time).

    Raises
    ------
    cxlab.errors.ParamsError
        One line naming the file and the offending key.
    """
    p = Path(path)
    key = (str(p.resolve()), p.stat().st_mtime if p.is_file() else -1.0)
    if key not in _CACHE:
        _CACHE[key] = load_params(p, Taxonomy)
    return _CACHE[key]


def resolve_taxonomy(taxonomy: Taxonomy | str | Path | None) -> Taxonomy:
    """A :class:`Taxonomy` from an instance, a path, or ``None`` (= ``params/text.yaml``)."""
    if isinstance(taxonomy, Taxonomy):
        return taxonomy
    if taxonomy is None:
        return load_taxonomy()
    if isinstance(taxonomy, str | Path):
        return load_taxonomy(taxonomy)
    raise TypeError(
        f"taxonomy must be a Taxonomy, a path to a YAML file or None, got {type(taxonomy).__name__}"
    )

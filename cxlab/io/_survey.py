"""Which survey an export comes from, and whether two responses are the same response.

Platforms such as 问卷星 (``序号``) and LimeSurvey (``id``) number the responses of each survey
1, 2, …: two branches' projects both have a response 1. A response id is therefore unique only
within its survey, and the ingest needs to know the survey of every file:

- the platform's survey id when the file name carries it (``survey_from_filename`` in
  sources.yaml, e.g. LimeSurvey's ``results-survey123456.csv``), else
- the export's question set: a hash of its column headers (the same questionnaire exported
  again, with more rows, has the same headers);
- plus the branch when every row of the file belongs to one branch (a per-branch project, or
  ``--branch``): two branches' copies of one questionnaire are two surveys.

A response whose id is already loaded from another file is

- the SAME response (a duplicate: quarantined, nothing is lost) when it comes from the same
  survey, or when its answers are identical (:func:`row_fingerprints`);
- ANOTHER response when it comes from another survey with other answers: it is loaded under
  the id ``<id>@<survey tag>`` (:func:`SurveyKey.tag`), so neither response is lost.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

__all__ = ["SurveyKey", "survey_key", "row_fingerprints"]

# columns that are not the respondent's answers (provenance, the id itself)
_NOT_ANSWERS = ("response_id", "source_file")


@dataclass(frozen=True, slots=True)
class SurveyKey:
    """``<source>:<survey>[/<branch>]`` where ``<survey>`` is ``p<platform id>`` or
    ``h<header hash>``."""

    source: str
    survey: str
    branch: str | None = None

    def __str__(self) -> str:
        return f"{self.source}:{self.survey}" + (f"/{self.branch}" if self.branch else "")

    @property
    def tag(self) -> str:
        """A short, readable suffix for response ids of this survey: ``p123456``,
        ``SH01-h3fa9c1`` or ``h3fa9c1d2``."""
        if self.survey.startswith("p"):     # the platform's id is unique on its own
            return self.survey
        if self.branch:
            return f"{self.branch}-{self.survey[:7]}"
        return self.survey[:9]


def _norm(name: object) -> str:
    return " ".join(unicodedata.normalize("NFKC", str(name)).split())


def survey_key(source: str, file_name: str, columns: Iterable[object], *,
               survey_from_filename: str | None = None,
               branches: pd.Series | None = None) -> SurveyKey:
    """The survey of one export file.

    Parameters
    ----------
    source : the sources.yaml survey name (``wjx``, ``limesurvey``, …).
    file_name : the file's name (for ``survey_from_filename``).
    columns : the export's column headers in file order.
    survey_from_filename : regex with ``(?P<survey>…)``.
    branches : the branch code of each row (after ``--branch``); the key names the branch
        when every row has the same one.
    """
    survey = None
    if survey_from_filename:
        m = re.search(survey_from_filename, file_name)
        if m and m.group("survey"):
            survey = "p" + m.group("survey")
    if survey is None:
        sig = "\x1f".join(_norm(c) for c in columns)
        survey = "h" + hashlib.sha256(sig.encode("utf-8")).hexdigest()[:12]
    branch = None
    if branches is not None:
        values = branches.dropna().unique()
        if len(values) == 1:
            branch = str(values[0])
    return SurveyKey(source, survey, branch)


def row_fingerprints(frame: pd.DataFrame, columns: list[str] | None = None) -> pd.Series:
    """One hash per row of a canonical response frame over everything but its id and source
    file: equal hashes = identical responses. Comparable between a freshly mapped frame and the
    same rows read back from the warehouse (values are compared as text)."""
    cols = columns if columns is not None else [c for c in frame.columns if c not in _NOT_ANSWERS]
    text = pd.DataFrame(index=frame.index)
    for c in cols:
        s = frame[c] if c in frame.columns else pd.Series(pd.NA, index=frame.index)
        if pd.api.types.is_datetime64_any_dtype(s):
            s = s.dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
        text[c] = s.astype("string").fillna("\x00")
    hashed = pd.util.hash_pandas_object(text, index=False)
    return hashed.astype("string")

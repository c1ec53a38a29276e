"""Small helpers shared by the text functions: argument checks and the id column."""

from __future__ import annotations

import pandas as pd

__all__ = ["id_frame", "id_name", "text_column"]


def text_column(data: pd.DataFrame, text: str) -> pd.Series:
    """The text column of ``data`` (checked)."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if text not in data.columns:
        raise ValueError(f"text column {text!r} not in data; columns are {list(map(str, data.columns))}")
    return data[text]


def id_name(data: pd.DataFrame) -> str:
    """``response_id`` when the frame has it, else ``index``."""
    return "response_id" if "response_id" in data.columns else "index"


def id_frame(data: pd.DataFrame) -> pd.DataFrame:
    """A frame with one identifier column per input row and a fresh RangeIndex."""
    name = id_name(data)
    ids = data["response_id"].to_numpy() if name == "response_id" else data.index.to_numpy()
    return pd.DataFrame({name: ids})

"""Loading YAML parameter files into validated pydantic models."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from cxlab.errors import ParamsError

__all__ = ["Strict", "load_params", "params_from_dict"]

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Base model for parameter files: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _describe(err: ValidationError, source: str) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    kind = first["type"]
    if kind == "extra_forbidden":
        msg = "unknown key"
    elif kind == "missing":
        msg = "missing required key"
    else:
        msg = first["msg"]
        if "input" in first and not isinstance(first["input"], dict | list):
            msg += f" (got {first['input']!r})"
    more = len(err.errors()) - 1
    tail = f" (+{more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{source}: {where}: {msg}{tail}"


def params_from_dict(data: object, model: type[M], *, source: str = "<dict>") -> M:
    """Validate an already-parsed mapping against ``model``; errors name ``source`` and the key."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ParamsError(_describe(err, source)) from None


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_params(path: str | Path, model: type[M]) -> M:
    """Read a YAML file and validate it against ``model``.

    Raises
    ------
    ParamsError
        One line naming the file, the offending key and what was expected.
    """
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: parameter file not found")
    try:
        # libyaml's safe loader when PyYAML has it (≈ 10× faster; every report kernel loads
        # the params), else the pure-Python one: same documents, same error marks
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ParamsError(f"{path}:{where}: invalid YAML: {problem}") from None
    if data is None:
        raise ParamsError(f"{path}: file is empty")
    return params_from_dict(data, model, source=str(path))

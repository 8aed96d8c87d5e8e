"""Option values turned into Python without pydantic, so that a command starts cheap.

typer (0.29) coerces every option that is not a plain flag through a pydantic ``TypeAdapter``, built when the
option is first processed: the root options alone (``-v``, ``--now``, ...) made every command import pydantic
and build four adapters, about half the CPU of ``octoscope version``. The options octoscope declares are
``str``, ``bool``, ``int`` (with bounds), ``float`` and ``Path``; their well-formed values are converted
here, to what typer would make of them. Anything else, and any value that does not convert cleanly, goes to
typer's own coercion, so that every refusal is typer's message, word for word.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from typer import BadParameter
from typer._coercion import RuntimeParam, build_runtime_param
from typer._param_types import coerce_cli_path

if TYPE_CHECKING:
    from typer._click import Context
    from typer.core import _TyperParameter

__all__ = ["install"]

_LONGEST_INT = 18  # digits that certainly fit where pydantic-core parses a str; longer ones go to typer


@dataclass(frozen=True)
class _Plain(RuntimeParam):
    """A ``str``, ``bool``, ``int``, ``float`` or ``Path`` option; typer's own coercion when unsure."""

    def _coerce_value(self, value: Any, param: _TyperParameter, ctx: Context) -> Any:
        converted = self._convert(value, param, ctx)
        if converted is None:
            return build_runtime_param(param.type_descriptor)._coerce_value(value, param=param, ctx=ctx)
        return converted[0]

    def _convert(self, value: Any, param: _TyperParameter, ctx: Context) -> tuple[Any] | None:
        kind, info = self.annotation, self.parameter_info
        if kind is str:
            return (value,) if type(value) is str else None
        if kind is bool:  # a flag not given (None, which never gets here) or given (True); "--x=yes": typer
            return (value,) if type(value) is bool else None
        if kind is int:
            number = value if type(value) is int else _int(value)
            if number is None:
                return None
            if (info.min is not None and number < info.min) or (info.max is not None and number > info.max):
                return None  # typer words the bound
            return (number,)
        if kind is float:
            if type(value) is float or type(value) is int:
                return (float(value),)
            whole, dot, fraction = value.partition(".") if type(value) is str else ("", "", "")
            if _digits(whole) and (not dot or _digits(fraction)):
                return (float(value),)  # plain decimals only ("1.5", "20"); typer judges the rest
            return None
        if kind is Path and type(value) is str and value and info.path_type is None:
            # typer's own checks (exists, readable, ...) run on the path; only pydantic's Path(str) is skipped.
            # A refusal is made again by typer, whose message quotes the value as typed.
            try:
                return (coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx),)
            except BadParameter:
                return None
        return None


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _int(text: object) -> int | None:
    """A plain decimal integer ("42", "-3"), else None (leading zeros, signs, spaces, "1_000": typer decides)."""
    if type(text) is not str:
        return None
    digits = text[1:] if text.startswith("-") else text
    if not _digits(digits) or len(digits) > _LONGEST_INT:
        return None
    if digits != "0" and digits.startswith("0"):
        return None
    return int(text)


def install() -> None:
    """From now on, in this process, give every plain option the coercion above (typer's own for the rest).

    typer builds an option's coercion the first time it processes it (``get_runtime_param``, which caches it
    in ``_runtime_param``); the help option of each command is made only then, so this is done there too.
    """
    from typer.core import _TyperParameter  # noqa: PLC0415

    def get_runtime_param(self: _TyperParameter) -> RuntimeParam:
        if self._runtime_param is None:
            self._runtime_param = _plain(self) or build_runtime_param(self.type_descriptor)
        return self._runtime_param

    _TyperParameter.get_runtime_param = get_runtime_param  # type: ignore[method-assign]


def _plain(param: _TyperParameter) -> _Plain | None:
    descriptor = param.type_descriptor
    info = descriptor.parameter_info
    if descriptor.file_annotation is not None or descriptor.annotation not in (str, bool, int, float, Path):
        return None
    if info.clamp or param.multiple or param.nargs != 1:
        return None
    return _Plain(info, descriptor.annotation)

"""The root command group, each of its commands made only when a run asks for it.

typer turns a whole app into click commands before running one: for each of octoscope's thirty-odd commands
it reads the signature and evaluates every annotation (``get_type_hints``), a fifth of what ``octoscope
version`` cost. Here the root group is made with its own options only, and its commands are made by typer's
own functions the first time they are looked up: a run makes the one it runs; ``--help`` makes them all, as
before. ``typer.main.get_command(app)`` still makes the whole app at once (what the tests walk).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import TYPE_CHECKING

import typer
from typer.main import get_command, get_command_from_info, get_command_name, get_group_from_info

if TYPE_CHECKING:
    from typer._click import Command
    from typer.models import CommandInfo, TyperInfo

__all__ = ["lazy_root"]


class _Commands(MutableMapping[str, "Command"]):
    """Command names in the order typer lists them, each made on first lookup."""

    def __init__(self) -> None:
        self._makers: dict[str, Callable[[], Command]] = {}
        self._made: dict[str, Command] = {}

    def __getitem__(self, name: str) -> Command:
        if name not in self._made:
            self._made[name] = self._makers[name]()
        return self._made[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self._makers[name] = lambda: command
        self._made[name] = command

    def __delitem__(self, name: str) -> None:
        del self._makers[name]
        self._made.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)


def lazy_root(app: typer.Typer) -> Command:
    """``app`` as a click group whose commands are made when looked up; the same names, order, options and
    help as ``typer.main.get_command(app)``, which an app of another shape (no callback, a nameless
    sub-app) still gets."""
    if app.registered_callback is None or app._add_completion:
        return get_command(app)
    root = typer.Typer()
    root.__dict__.update(app.__dict__)  # the same settings and root options, none of the commands
    root.registered_commands, root.registered_groups = [], []
    group = get_command(root)
    commands = _Commands()
    for info in app.registered_commands:
        if info.callback is None:
            return get_command(app)
        commands._makers[info.name or get_command_name(info.callback.__name__)] = _command_maker(app, info)
    for sub in app.registered_groups:
        name = sub.name if isinstance(sub.name, str) else None
        if not name:
            return get_command(app)
        commands._makers[name] = _group_maker(app, sub)
    group.commands = commands  # type: ignore[attr-defined]
    return group


def _command_maker(app: typer.Typer, info: CommandInfo) -> Callable[[], Command]:
    return lambda: get_command_from_info(
        info, pretty_exceptions_short=app.pretty_exceptions_short, rich_markup_mode=app.rich_markup_mode
    )


def _group_maker(app: typer.Typer, info: TyperInfo) -> Callable[[], Command]:
    return lambda: get_group_from_info(
        info,
        pretty_exceptions_short=app.pretty_exceptions_short,
        rich_markup_mode=app.rich_markup_mode,
        suggest_commands=app.suggest_commands,
    )

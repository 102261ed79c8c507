"""``vecexplore`` command line: argparse → one workflow (a capability's ``report``) → JSON, as the app calls it.

Each module of this package holds one capability's commands, and each command is declared once, where it runs::

    @command("project", "2-D/3-D map of a corpus", *CORPUS, limited("--k", "neighbours"), backend=True)
    def project(args: argparse.Namespace) -> dict: ...

Every module here is imported when the command line is built, so a new module's commands need no list to be
added to. What every command shares is declared here once: ``--json`` (accepted by all; the output is always
JSON), ``--backend`` (on the commands registered with ``backend=True``: those that run a model), the numeric
options' ranges, help and defaults (``limited``, from :data:`vecexplore.validation.LIMITS`), JSON printing and the
exit codes.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

import numpy as np

from vecexplore.errors import VecexploreError
from vecexplore.validation import LIMITS, option


class Arg:
    """One ``add_argument`` call, declared once and added to every parser that lists it."""

    def __init__(self, *flags: str, **settings: object) -> None:
        self.flags, self.settings = flags, settings

    def add_to(self, parser: argparse.ArgumentParser | argparse._MutuallyExclusiveGroup) -> None:
        parser.add_argument(*self.flags, **self.settings)


class OneOf:
    """Options of which a command line may give at most one."""

    def __init__(self, *args: Arg) -> None:
        self.args = args

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        group = parser.add_mutually_exclusive_group()
        for a in self.args:
            a.add_to(group)



def _number(value: float) -> str:
    """``value`` as a reader types it: whole numbers in full (2147483647, not 2.14748e+09), others as ``%g``."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def limited(flag: str, name: str, kind: type = int, note: str = "", **settings: object) -> Arg:
    """A numeric option whose range, help and default are ``LIMITS[name]``'s (``note`` adds what only this
    command needs said): a value out of range is refused with the message the core and the pages give."""
    limit = LIMITS[name]
    said = [f"{_number(limit.lo)} to {_number(limit.hi)}"]
    if limit.default is not None:
        said.append(f"default {_number(limit.default)}")
    if note:
        said.append(note)
    default = None if limit.default is None else kind(limit.default)
    return Arg(flag, type=option(name, kind), default=default,
               help=f"{limit.what} ({'; '.join(said)})".replace("%", "%%"), **settings)


@dataclass(frozen=True)
class Command:
    """A subcommand: its name and help, its options, whether it runs a model (``--backend``), and what runs it."""

    name: str
    help: str
    run: Callable[[argparse.Namespace], dict]
    options: tuple[Arg | OneOf, ...] = ()
    backend: bool = False


COMMANDS: dict[str, Command] = {}


def command(name: str, help: str, *options: Arg | OneOf, backend: bool = False) -> Callable:
    """Register the decorated ``run(args) -> dict`` as the command ``name`` with ``options``; ``backend=True``
    gives it ``--backend`` (how transformer models run)."""

    def register(run: Callable[[argparse.Namespace], dict]) -> Callable[[argparse.Namespace], dict]:
        if name in COMMANDS:
            raise ValueError(f"two commands are named {name!r}: {COMMANDS[name].run.__module__} and {run.__module__}")
        COMMANDS[name] = Command(name, help, run, options, backend)
        return run

    return register


def commands() -> dict[str, Command]:
    """Every command, once each module of this package has registered its own."""
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    return COMMANDS


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line as a :class:`VecexploreError` (so JSON on stdout and exit 2, like
    every other error) instead of a usage text."""

    def error(self, message: str) -> NoReturn:
        raise VecexploreError(f"{self.prog}: {message.rstrip('.')}. See `{self.prog} --help`.")


def _parser() -> argparse.ArgumentParser:
    from vecexplore.encoders import BACKENDS

    parser = _Parser(prog="vecexplore", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for c in commands().values():
        p = sub.add_parser(c.name, help=c.help, description=c.help)
        p.add_argument("--json", action="store_true", help="output is JSON (the default)")
        for o in c.options:
            o.add_to(p)
        if c.backend:
            p.add_argument("--backend", choices=list(BACKENDS), default="auto",
                           help="how transformer models run (default auto: ONNX Runtime when it matches torch)")
    return parser


def _default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _fail(message: str, code: int) -> int:
    print(f"vecexplore: error: {message}", file=sys.stderr)
    print(json.dumps({"error": message}, ensure_ascii=False))
    return code


def main(argv: list[str] | None = None) -> int:
    """Run one command; print its result as JSON. Exit 2 with ``{"error": ...}`` for anything a user can fix,
    exit 1 with ``{"error": ...}`` for a bug (the traceback only with ``VECEXPLORE_DEBUG=1``)."""
    # transformers' weight-loading bars and load reports are noise on a CLI whose output is JSON
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        args = _parser().parse_args(argv)
        result = COMMANDS[args.command].run(args)
    except VecexploreError as exc:
        return _fail(str(exc), 2)
    except Exception as exc:  # a bug: say so in one JSON line rather than a traceback
        if os.environ.get("VECEXPLORE_DEBUG"):
            traceback.print_exc()
        return _fail(f"unexpected {type(exc).__name__}: {exc}. This is a bug in vecexplore; run again with "
                     "VECEXPLORE_DEBUG=1 to see where it happened, and report it.", 1)
    print(json.dumps(result, indent=2, ensure_ascii=False, default=_default))
    return 0

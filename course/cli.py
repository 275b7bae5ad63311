"""One dispatcher for ``python -m course COMMAND`` and the students' ``python -m helpers doctor``.

A command table maps each name to ``(module, one line of help)``; the module has a
``main(argv) -> int``, imported only when its command runs (so ``--help`` stays fast and the
doctor needs no tooling packages).
"""

from __future__ import annotations

import importlib
import sys

Commands = dict[str, tuple[str, str]]


def usage(prog: str, commands: Commands, footer: list[str] = ()) -> str:
    """The usage text: ``usage: PROG COMMAND``, one line per command, then ``footer``."""
    width = max(8, 1 + max(map(len, commands)))
    lines = [f"usage: {prog} COMMAND", "", "commands:"]
    lines += [f"  {name:<{width}} {text}" for name, (_, text) in commands.items()]
    return "\n".join([*lines, *([""] + list(footer) if footer else [])])


def dispatch(prog: str, commands: Commands, text: str, argv: list[str] | None = None) -> int:
    """Run the command named by ``argv[0]`` and return its exit code.

    No command, ``-h``, ``--help`` or ``help`` prints ``text`` (exit 0); an unknown one prints
    it to stderr (exit 2).
    """
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(text)
        return 0
    name, rest = argv[0], argv[1:]
    if name not in commands:
        print(f"{prog}: unknown command {name!r}\n\n{text}", file=sys.stderr)
        return 2
    module = importlib.import_module(commands[name][0])
    return module.main(rest)

"""``python -m helpers COMMAND``: the course's command-line tools."""

from __future__ import annotations

import importlib
import sys

COMMANDS = {  # name -> (module with a main(argv) -> int, one line of help)
    "doctor": ("helpers.doctor", "check Python, packages, data files, Jupyter and the kernel"),
}

USAGE = "\n".join(
    [
        "usage: python -m helpers COMMAND",
        "",
        "commands:",
        *(f"  {name:<8} {text}" for name, (_, text) in COMMANDS.items()),
        "",
        "also: python -m helpers.release   regenerate notebooks/ from solutions/",
    ]
)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"python -m helpers: unknown command {name!r}\n\n{USAGE}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    return module.main(rest)


if __name__ == "__main__":
    sys.exit(main())

"""Writing a student's files safely: atomic replacement and timestamped backups.

The release (:mod:`course.release`) and the update (:mod:`course.update`) both write notebooks
that a student may have worked in; neither may lose a byte of it. Standard library only (the
update runs on a student's machine).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

BACKUP_DIR = ".backup"
"""Backups go into this folder beside the file: ``notebooks/.backup/NAME.YYYYmmdd-HHMMSS.ipynb``."""


def _umasked_mode() -> int:
    """The permissions ``open()`` would give a new file (0o666 less the umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomic(path: Path, data: str | bytes) -> None:
    """Replace ``path`` by ``data`` (text as UTF-8 with ``\\n`` newlines) all at once.

    A reader sees the old file or the new one, never half of one, even if the writer dies.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if isinstance(data, str):
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(data)
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        os.chmod(tmp, _umasked_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def backup(path: Path) -> Path:
    """Copy ``path`` into ``.backup/`` beside it with a timestamp; never overwrite a backup."""
    path = Path(path)
    folder = path.parent / BACKUP_DIR
    folder.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = folder / f"{path.stem}.{stamp}{path.suffix}"
    number = 1
    while target.exists():
        number += 1
        target = folder / f"{path.stem}.{stamp}-{number}{path.suffix}"
    shutil.copy2(path, target)
    return target

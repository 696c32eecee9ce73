"""What sanctioncast computes once per machine and keeps: the cache directory.

``SANCTIONCAST_CACHE_DIR``, else ``$XDG_CACHE_HOME/sanctioncast``, else ``~/.cache/sanctioncast``.
It holds the trained pooled models (:mod:`models.pooled_gbm`) and the empty MLflow database a new
sqlite store starts from (:func:`pipelines.tracking.schema_template`). Every file in it is named
by what made it (hyperparameters, library versions), written whole or not at all
(:func:`write_atomically`), and can be deleted at any time: it is made again when next needed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def cache_dir() -> Path:
    """The cache directory (not created here)."""
    env = os.environ.get("SANCTIONCAST_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sanctioncast"


def write_atomically(path: Path, write: Callable[[Path], object], replace: bool = True) -> None:
    """``write(tmp)`` to a new file beside ``path``, then moved onto ``path`` in one step: a
    reader sees the old file or the whole new one, never a part. With ``replace=False`` a file
    already at ``path`` (another process's, made meanwhile) is kept and ``FileExistsError``
    raised. The folder is created; on any error the temporary file is removed and the error
    passes on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails, rather than replace, if ``path`` exists
            tmp.unlink()
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise

"""Unpack PySide6's Python support files once, so that Qt loads faster at every start.

    python packaging/unpack_qt_support.py

shiboken6 (PySide6's binding layer) ships its Python support package inside its shared
library and, by default, unpacks and compiles it from memory every time Qt is imported:
about 10 ms of every Skylift start (measured: ``import PySide6.QtCore`` 69 -> 60 ms).
shiboken6's own ``SBK_EMBED=0`` switch writes the package to ``shiboken6/files.dir``
instead, where Python keeps its compiled bytecode like any installed module's.

Run by packaging/install.sh and tests/run.sh with the environment's own Python, after
pip. Safe to run again: an older unpacked copy (from before a PySide6 update) is removed
first. If the unpacked copy does not import, it is removed and shiboken6 goes on using its
embedded one, so this can only make Qt start faster, never break it.
"""

from __future__ import annotations

import compileall
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path


def shiboken_dir() -> Path | None:
    spec = importlib.util.find_spec("shiboken6")  # found without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _import_qt(sbk_embed: str | None) -> bool:
    env = dict(os.environ)
    env.pop("SBK_EMBED", None)
    if sbk_embed is not None:
        env["SBK_EMBED"] = sbk_embed
    r = subprocess.run(
        [sys.executable, "-c", "import PySide6.QtCore"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    return r.returncode == 0


def main() -> int:
    where = shiboken_dir()
    if where is None:
        print("unpack_qt_support: shiboken6 is not installed here; nothing to do")
        return 0
    files = where / "files.dir"
    shutil.rmtree(files, ignore_errors=True)  # never keep another version's copy
    if not _import_qt("0") or not files.is_dir():
        shutil.rmtree(files, ignore_errors=True)
        print("unpack_qt_support: shiboken6 did not unpack its files; it keeps them embedded")
        return 0
    compileall.compile_dir(files, quiet=1)
    if not _import_qt(None):
        shutil.rmtree(files, ignore_errors=True)
        print("unpack_qt_support: the unpacked files did not load; removed them")
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

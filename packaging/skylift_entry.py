"""The frozen app's entry point (see skylift.spec): the same as the ``skylift`` command.

rclone discovery looks in the bundle (``sys._MEIPASS``) first, so the rclone shipped
inside the build is found without touching PATH.
"""

from skylift.entry.cli import run

run()

#!/usr/bin/env bash
# Installs what Skylift's tests need and runs them: bash tests/run.sh [pytest args...]
#
# System packages (Debian/Ubuntu): Python's venv module, the libraries Qt's platform
# plugins load, Xvfb + trayer + xdotool for the real-desktop test, D-Bus for the sleep
# test, appstream and desktop-file-utils to validate the packaging files. Installed with
# apt-get when missing (as root, or through sudo); everything else goes in ./.venv.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=packaging/system-packages.sh
. packaging/system-packages.sh
install_system_packages "${QT_RUNTIME_PACKAGES[@]}" xvfb trayer xdotool x11-utils dbus \
    appstream desktop-file-utils

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
.venv/bin/python packaging/unpack_qt_support.py  # as packaging/install.sh does

export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"

#!/usr/bin/env bash
# Installs Skylift for the current user from this checkout:
#   - the system libraries Qt needs (apt-get, through sudo when not root),
#   - a private virtual environment in ~/.local/share/skylift/venv with Skylift and rclone,
#   - the `skylift` command in ~/.local/bin, and a menu entry with "Open with" for photos.
# Run it again to update. Remove with: rm -rf ~/.local/share/skylift/venv ~/.local/bin/skylift
#   ~/.local/share/applications/io.github.skylift.Skylift.desktop
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"

# shellcheck source=packaging/system-packages.sh
. "$here/packaging/system-packages.sh"
install_system_packages "${QT_RUNTIME_PACKAGES[@]}"

data="${XDG_DATA_HOME:-$HOME/.local/share}"
venv="$data/skylift/venv"
bin="$HOME/.local/bin"
mkdir -p "$data/skylift" "$bin"
chmod 700 "$data/skylift"
[ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "$here"
"$venv/bin/python" "$here/packaging/unpack_qt_support.py"  # Qt starts ~10 ms faster
ln -sf "$venv/bin/skylift" "$bin/skylift"

desktop="$here/packaging/io.github.skylift.Skylift.desktop"
if [ -f "$desktop" ]; then
    mkdir -p "$data/applications" "$data/icons/hicolor/scalable/apps"
    sed "s|^Exec=skylift|Exec=$bin/skylift|" "$desktop" > "$data/applications/io.github.skylift.Skylift.desktop"
    icon="$here/resources/io.github.skylift.Skylift.svg"
    [ -f "$icon" ] && cp "$icon" "$data/icons/hicolor/scalable/apps/io.github.skylift.Skylift.svg"
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$data/applications" || true
fi
echo "Skylift is installed: $bin/skylift ($("$venv/bin/skylift" --version))"

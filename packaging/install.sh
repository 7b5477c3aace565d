#!/usr/bin/env bash
# Installs Skylift for the current user from this checkout:
#   - the system libraries Qt needs (apt-get, through sudo when not root),
#   - a private virtual environment in ~/.local/share/skylift/venv with Skylift and rclone,
#   - the `skylift` command in ~/.local/bin, and a menu entry with "Open with" for photos.
# Run it again to update. Remove with: rm -rf ~/.local/share/skylift/venv ~/.local/bin/skylift
#   ~/.local/share/applications/io.github.skylift.Skylift.desktop
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"

packages=(
    python3-venv python3-pip
    libegl1 libgl1 libfontconfig1 libdbus-1-3 libglib2.0-0 libxkbcommon0
    libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
    libxcb-render-util0 libxcb-image0 libxcb-randr0 libxcb-xinerama0 libxcb-xkb1
)
if command -v apt-get >/dev/null 2>&1; then
    missing=()
    for p in "${packages[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if ((${#missing[@]})); then
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        echo "Installing system packages: ${missing[*]}"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    fi
fi

data="${XDG_DATA_HOME:-$HOME/.local/share}"
venv="$data/skylift/venv"
bin="$HOME/.local/bin"
mkdir -p "$data/skylift" "$bin"
chmod 700 "$data/skylift"
[ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "$here"
ln -sf "$venv/bin/skylift" "$bin/skylift"

desktop="$here/packaging/io.github.skylift.Skylift.desktop"
if [ -f "$desktop" ]; then
    mkdir -p "$data/applications" "$data/icons/hicolor/scalable/apps"
    sed "s|^Exec=skylift|Exec=$bin/skylift|" "$desktop" > "$data/applications/io.github.skylift.Skylift.desktop"
    icon="$here/resources/icons/skylift.svg"
    [ -f "$icon" ] && cp "$icon" "$data/icons/hicolor/scalable/apps/io.github.skylift.Skylift.svg"
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$data/applications" || true
fi
echo "Skylift is installed: $bin/skylift ($("$venv/bin/skylift" --version))"

# Sourced by packaging/install.sh and tests/run.sh: install Debian/Ubuntu packages that
# are missing, with apt-get (through sudo when not root). Elsewhere it does nothing.
install_system_packages() {
    command -v apt-get >/dev/null 2>&1 || return 0
    local missing=() p sudo=""
    for p in "$@"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "Installing system packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

# What Qt's platform plugins load (offscreen and xcb), and Python's venv.
QT_RUNTIME_PACKAGES=(
    python3-venv python3-pip
    libegl1 libgl1 libfontconfig1 libdbus-1-3 libglib2.0-0 libxkbcommon0 libgssapi-krb5-2
    libx11-xcb1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
    libxcb-shape0 libxcb-render-util0 libxcb-image0 libxcb-randr0 libxcb-sync1
    libxcb-xfixes0 libxcb-xkb1
)

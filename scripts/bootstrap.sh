#!/usr/bin/env bash
# Create the virtualenv with a Python >= 3.12 found on this machine, and install Kefu.
set -euo pipefail
venv=${1:-.venv}

find_python() {
    local candidates=()
    [ -n "${KEFU_PYTHON:-}" ] && candidates+=("$KEFU_PYTHON")
    candidates+=(python3.13 python3.12 python3 python)
    if command -v pyenv >/dev/null 2>&1; then
        local root
        root=$(pyenv root)
        for v in $(ls -1 "$root/versions" 2>/dev/null | sort -rV); do
            candidates+=("$root/versions/$v/bin/python3")
        done
    fi
    for dir in /root/.pyenv/versions "$HOME/.pyenv/versions"; do
        for p in "$dir"/3.13*/bin/python3 "$dir"/3.12*/bin/python3; do
            [ -x "$p" ] && candidates+=("$p")
        done
    done
    for c in "${candidates[@]}"; do
        if command -v "$c" >/dev/null 2>&1 || [ -x "$c" ]; then
            if "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
                echo "$c"
                return 0
            fi
        fi
    done
    return 1
}

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then
    python=$(find_python) || {
        echo "Kefu needs Python 3.12 or newer; none was found (set KEFU_PYTHON=/path/to/python3.12)." >&2
        exit 1
    }
    echo "Using $python ($("$python" --version))"
    rm -rf "$venv"
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e '.[dev]'
echo "Installed Kefu into $venv"

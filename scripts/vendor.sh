#!/usr/bin/env bash
# Reproduce the vendored front-end files from npm (`make vendor`). Kefu has no JS build step:
# the files below are committed, and this script is how they were produced. Change a version
# here, run it, and commit the result together.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

HTMX_VERSION=2.0.11

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

vendor() {  # vendor NPM_PACKAGE VERSION DEST_DIR FILE...
    local package=$1 version=$2 dest=$3
    shift 3
    (cd "$scratch" && npm pack --silent "$package@$version" >/dev/null)
    local tarball
    tarball=$(ls "$scratch"/*.tgz)
    mkdir -p "$scratch/x" "$dest"
    tar -xzf "$tarball" -C "$scratch/x"
    for file in "$@"; do
        cp "$scratch/x/package/$file" "$dest/$(basename "$file")"
    done
    echo "$package@$version" >"$dest/VERSION"
    rm -rf "$scratch/x" "$tarball"
    echo "vendored $package@$version into $dest"
}

vendor htmx.org "$HTMX_VERSION" src/kefu/web/static/vendor/htmx dist/htmx.min.js LICENSE

#!/usr/bin/env bash
# Idempotent local setup, run by `make setup` (and so by `make run` / `make test`):
#   1. .venv/ (python3 -m venv) if missing;
#   2. pip install -e '.[dev]' only when pyproject.toml changed since the last install (hash stamp);
#   3. GOV.UK Frontend from npm (exact version in package-lock.json) copied into static/govuk/.
# A second run with nothing changed takes well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV=.venv
say() { printf 'setup: %s\n' "$*" >&2; }
hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# --- 1. virtualenv ----------------------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV with $("$PYTHON" --version 2>&1)"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
fi

# --- 2. Python packages -----------------------------------------------------------------------
py_stamp="$VENV/.portal-installed"
py_hash="$(hash_of pyproject.toml)"
if [ "$(cat "$py_stamp" 2>/dev/null || true)" != "$py_hash" ]; then
    say "installing Python packages (pyproject.toml changed or first run)"
    "$VENV/bin/python" -m pip install -q -e '.[dev]'
    echo "$py_hash" > "$py_stamp"
fi

# --- 3. front-end assets ----------------------------------------------------------------------
if ! command -v npm >/dev/null; then
    say "npm not found: installing Debian's nodejs and npm"
    scripts/install-system-deps.sh node
fi

# This script's own hash is part of the stamp so a change to the copy rules rebuilds static/govuk.
asset_hash="$(hash_of package.json package-lock.json "$0")"
npm_stamp=node_modules/.portal-installed
if [ "$(cat "$npm_stamp" 2>/dev/null || true)" != "$asset_hash" ]; then
    say "installing npm packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error >&2
    echo "$asset_hash" > "$npm_stamp"
fi

static_stamp=static/govuk/.portal-built
if [ "$(cat "$static_stamp" 2>/dev/null || true)" != "$asset_hash" ]; then
    src=node_modules/govuk-frontend/dist/govuk
    say "copying GOV.UK Frontend $(node -p "require('./node_modules/govuk-frontend/package.json').version") into static/govuk/"
    rm -rf static/govuk
    mkdir -p static/govuk/assets/images
    cp "$src/govuk-frontend.min.js" static/govuk/
    # Without its @font-face rules: the GDS Transport files are not shipped (see below), and a
    # declared but missing font is a 404 whenever the browser styles text before portal.css.
    # Likewise the royal crest behind the footer's copyright logo, which is not shipped either.
    perl -0pe 's/\@font-face\{[^}]*\}//g; s{url\(/assets/images/govuk-crest\.svg\)}{none}g' \
        "$src/govuk-frontend.min.css" > static/govuk/govuk-frontend.min.css
    # Images minus GOV.UK's branding: the crown (favicons, app icons, mask icon, OpenGraph image)
    # and the royal arms (govuk-crest.svg). No fonts: GDS Transport is only for GOV.UK services,
    # static/css/portal.css sets a system font stack instead. Nothing from assets/rebrand/.
    for f in "$src"/assets/images/*; do
        case "$(basename "$f")" in
            favicon.* | govuk-icon-* | govuk-crest.* | govuk-opengraph-image.* ) ;;
            *) cp "$f" static/govuk/assets/images/ ;;
        esac
    done
    echo "$asset_hash" > "$static_stamp"
fi

# Pre-compressed copies of the static CSS and JS (portal/static_files.py serves them to browsers
# that accept gzip; a copy older than its file is ignored, so a stale one is never served).
find static -type f \( -name '*.css' -o -name '*.js' -o -name '*.svg' \) | while read -r f; do
    if [ ! -f "$f.gz" ] || [ "$f" -nt "$f.gz" ]; then gzip -9 -n -k -f "$f"; fi
done

mkdir -p .run/mail

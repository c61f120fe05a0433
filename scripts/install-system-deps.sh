#!/usr/bin/env bash
# Install the Debian packages the portal's run/test commands need, and nothing else.
#
#   scripts/install-system-deps.sh [postgres] [chromium] [node] [nginx] [fonts] [pdftotext]
#   (no argument: all)
#
# A quick no-op when everything is present. Runs `apt-get update` at most once per call, and only
# when a package is missing and apt does not know it (fresh image) or an install fails (stale lists).
set -euo pipefail

want=("$@")
[ ${#want[@]} -eq 0 ] && want=(postgres chromium node nginx fonts pdftotext)

pkgs=()
for w in "${want[@]}"; do
    case "$w" in
        postgres)
            # initdb and pg_ctl live under /usr/lib/postgresql/<version>/bin on Debian.
            if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null \
                || ! compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null \
                || ! command -v psql >/dev/null; then
                pkgs+=(postgresql postgresql-client)
            fi
            ;;
        chromium)
            # Debian's Chromium (never Playwright's own browser downloads) plus plain fonts,
            # so pages render and screenshots read the same on every machine.
            [ -x /usr/bin/chromium ] || pkgs+=(chromium)
            [ -e /usr/share/fonts/truetype/liberation2 ] || [ -e /usr/share/fonts/truetype/liberation ] \
                || pkgs+=(fonts-liberation2)
            [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || pkgs+=(fonts-dejavu-core)
            ;;
        node)
            command -v npm >/dev/null || pkgs+=(nodejs npm)
            ;;
        nginx)
            # The deployment test checks docs/deploy.md's nginx block with the real nginx.
            command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || pkgs+=(nginx-light)
            ;;
        fonts)
            # The fonts every PDF embeds (portal/pdf.py finds them): Latin, Greek, Cyrillic,
            # Arabic, Hebrew, Devanagari and more; Chinese, Japanese, Korean; colour emoji.
            noto=/usr/share/fonts/truetype/noto
            for f in NotoSans-Regular NotoSans-Bold NotoSansArabic-Regular NotoSansHebrew-Regular \
                     NotoSansDevanagari-Regular; do
                [ -e "$noto/$f.ttf" ] || { pkgs+=(fonts-noto-core); break; }
            done
            [ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] \
                && [ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc ] || pkgs+=(fonts-noto-cjk)
            [ -e "$noto/NotoColorEmoji.ttf" ] || pkgs+=(fonts-noto-color-emoji)
            ;;
        pdftotext)
            # Tests read the text of generated PDFs back as a reader would (tests/pdftext.py).
            command -v pdftotext >/dev/null || pkgs+=(poppler-utils)
            ;;
        *) echo "install-system-deps: unknown component '$w' (use postgres, chromium, node, nginx, fonts, pdftotext)" >&2; exit 2 ;;
    esac
done

[ ${#pkgs[@]} -eq 0 ] && exit 0

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then SUDO=(sudo); else
        echo "install-system-deps: need root (or sudo) to install: ${pkgs[*]}" >&2; exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
apt_install() {
    "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${pkgs[@]}"
}

echo "install-system-deps: installing ${pkgs[*]}"
updated=0
for p in "${pkgs[@]}"; do
    if ! apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [^(]'; then
        "${SUDO[@]}" apt-get update -q
        updated=1
        break
    fi
done
if ! apt_install; then
    [ "$updated" -eq 1 ] && exit 1
    "${SUDO[@]}" apt-get update -q
    apt_install
fi

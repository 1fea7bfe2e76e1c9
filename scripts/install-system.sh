#!/usr/bin/env bash
# Install the Debian/Ubuntu packages Dang'an needs, only those missing. Uses sudo when not root.
set -euo pipefail

packages=(
  tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim tesseract-ocr-chi-tra  # OCR engine + languages
  ghostscript qpdf unpaper pngquant jbig2dec                                   # ocrmypdf's helpers (jbig2dec: JBIG2 PDFs)
  fonts-noto-cjk                                                               # renders sample/test pages
  fonts-arphic-ukai                                                            # the OCR benchmark's brush-script note
  poppler-utils                                                                # pdftotext: the text layer tests
  chromium                                                                     # the web UI test's browser (Playwright)
  postgresql                                                                   # the tests' private PostgreSQL cluster (tests/pgserver.py)
  redis-server                                                                 # for the Redis work of issue 16 (no test starts it yet)
)
# tsc --checkJs and axe-core (make install: npm ci). Only when there is no npm at all: NodeSource's nodejs package
# carries npm itself and conflicts with Debian's npm package.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: missing system packages (${missing[*]}) and no apt-get here; install them with your package manager" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "error: missing system packages (${missing[*]}); run as root or install sudo" >&2
    exit 1
  fi
fi
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

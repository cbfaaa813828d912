#!/usr/bin/env bash
# Renders the leadership deck: docs/PRESENTATION.md -> docs/PRESENTATION.pdf and
# docs/PRESENTATION.html, with Debian's Chromium (never a browser download).
#
#   bash docs/deck/render.sh
#
# 1. every diagram source docs/deck/diagrams/NAME.mmd -> docs/img/NAME.png (mermaid-cli, twice the pixels for print);
# 2. the slides -> PDF and HTML (Marp CLI); the slides show the images, never a Mermaid block;
# 3. docs/deck/rendered-from.sha256: the hashes of what was rendered from (the slides, the
#    diagram sources and settings, every image the slides show), read by docs/deck/check.sh.
#
# The tools come from the npm registry, pinned by docs/deck/package-lock.json and installed
# outside the clone, into ~/.cache/pizza-pipeline/deck-tools (shared by every clone, and
# no third-party files under docs/). Commit the outputs it writes.
set -euo pipefail
deck="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$deck/../.." && pwd)"
cd "$root"

export PUPPETEER_SKIP_DOWNLOAD=1 PUPPETEER_SKIP_CHROMIUM_DOWNLOAD=1
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "deck: installing Debian's chromium"
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else
    echo "deck: $chromium is missing (Debian: apt-get install chromium)" >&2; exit 1
  fi
fi
command -v npm >/dev/null || { echo "deck: npm is missing (Node.js 20)" >&2; exit 1; }

# The pinned tools, installed again only when the lock file changed.
tools="${PIZZA_CACHE_DIR:-${HOME:-/root}/.cache/pizza-pipeline}/deck-tools"
stamp="$tools/node_modules/.lock.sha256"
want="$(sha256sum "$deck/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "deck: npm ci (docs/deck/package-lock.json) into $tools"
  mkdir -p "$tools"
  cp "$deck/package.json" "$deck/package-lock.json" "$tools/"
  (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
fi
bin="$tools/node_modules/.bin"

# Chromium for both tools, sandbox off (root in a container), no GPU.
puppeteer_cfg="$(mktemp --suffix=.json)"
trap 'rm -f "$puppeteer_cfg"' EXIT
cat > "$puppeteer_cfg" <<EOF
{ "executablePath": "$chromium", "args": ["--no-sandbox", "--headless", "--disable-gpu"] }
EOF

# 1. Diagrams. A Gantt chart takes diagrams/gantt.json and the large-type style sheet
#    diagrams/gantt.css, in a 1,200 px page (its type then stays large once scaled onto a
#    slide); other diagrams take diagrams/mermaid.json and their own width, up to 1,500 px.
#    Look at the images after a change: mermaid decides whether a bar's label fits inside
#    the bar by measuring it, and a change of font or size can make labels overflow.
mkdir -p docs/img
for src in "$deck"/diagrams/*.mmd; do
  name="$(basename "$src" .mmd)"
  cfg="$deck/diagrams/mermaid.json" css=() size=1500
  if grep -qE '^\s*gantt\b' "$src"; then
    cfg="$deck/diagrams/gantt.json" css=(-C "$deck/diagrams/gantt.css") size=1200
  fi
  echo "deck: docs/deck/diagrams/$name.mmd -> docs/img/$name.png"
  "$bin/mmdc" -q -p "$puppeteer_cfg" -c "$cfg" "${css[@]}" \
    --size "$size" -b white -i "$src" -s 2 -o "docs/img/$name.png"
done

# 2. The slides. Marp resolves img/… against docs/, beside the outputs.
if grep -nE '^\s*(```|~~~)\s*mermaid|^\s*:::\s*mermaid' docs/PRESENTATION.md; then
  echo "deck: docs/PRESENTATION.md holds a Mermaid block; put the diagram in docs/deck/diagrams/ and show its image" >&2
  exit 1
fi
export CHROME_PATH="$chromium" CHROME_NO_SANDBOX=1
marp_args=(--config-file "$deck/marp.config.cjs" --html --allow-local-files --browser chrome --browser-path "$chromium")
echo "deck: docs/PRESENTATION.md -> docs/PRESENTATION.pdf"
"$bin/marp" "${marp_args[@]}" --pdf -o docs/PRESENTATION.pdf docs/PRESENTATION.md
echo "deck: docs/PRESENTATION.md -> docs/PRESENTATION.html"
"$bin/marp" "${marp_args[@]}" -o docs/PRESENTATION.html docs/PRESENTATION.md

# 3. What it was rendered from.
bash "$deck/check.sh" --list-sources | xargs sha256sum > "$deck/rendered-from.sha256"
echo "deck: wrote docs/deck/rendered-from.sha256"
if command -v pdfinfo >/dev/null; then
  echo "deck: $(pdfinfo docs/PRESENTATION.pdf | awk '/^Pages:/ {print $2}') pages"
fi
bash "$deck/check.sh"

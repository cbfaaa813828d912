#!/usr/bin/env bash
# A cheap check of the leadership deck (bash and coreutils only: no npm, no network).
#
#   bash docs/deck/check.sh                 check, and say what to do when it fails
#   bash docs/deck/check.sh --list-sources  print the files the deck is rendered from
#
# It fails when
#   - docs/PRESENTATION.md holds a Mermaid block (slides show pre-rendered images),
#   - docs/PRESENTATION.md links outside the repository,
#   - an image the slides show, or the image of a diagram source, is missing,
#   - docs/PRESENTATION.pdf or .html is missing,
#   - the slides, a diagram source or a shown image changed since the last render
#     (docs/deck/rendered-from.sha256, written by docs/deck/render.sh),
#   - a milestone date of the deck's plan (docs/deck/diagrams/plan.mmd) differs from the
#     Gantt chart of docs/ROADMAP.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
slides=docs/PRESENTATION.md
hashes=docs/deck/rendered-from.sha256

# The images the slides show (Markdown images and <img src>), as paths from the root.
shown_images() {
  { grep -oE '!\[[^]]*\]\([^) ]+' "$slides" | sed -E 's/^!\[[^]]*\]\(//' || true
    grep -oE '<img[^>]+src="[^"]+"' "$slides" | sed -E 's/.*src="//; s/"$//' || true
  } | sed -E 's/[?#].*$//' | sort -u | while read -r rel; do
    case "$rel" in
      /*) echo "${rel#/}" ;;
      *) realpath -m --relative-to=. "docs/$rel" ;;
    esac
  done
}

sources() {
  echo "$slides"
  find docs/deck/diagrams -type f | sort
  echo docs/deck/marp.config.cjs
  shown_images
}

if [ "${1:-}" = "--list-sources" ]; then sources | sort -u; exit 0; fi

fail=0
problem() { echo "deck check: $*" >&2; fail=1; }
rerender="run 'bash docs/deck/render.sh' and commit docs/PRESENTATION.{md,pdf,html}, docs/img/ and docs/deck/"

# 1. No Mermaid block on a slide.
if grep -nE '^\s*(```|~~~)\s*mermaid|^\s*:::\s*mermaid' "$slides" >&2; then
  problem "$slides holds a Mermaid block (lines above): Marp does not render it. Put the diagram in docs/deck/diagrams/NAME.mmd, show ![](img/NAME.png) on the slide and $rerender"
fi

# 2. No link that leaves the repository (nor to a sibling folder of the clone: written
#    [s]hared, so that grepping the repository for such references finds none here).
if grep -nE '\]\((https?:|\.\./\.\./)|<https?:|\.\./[s]hared/' "$slides" >&2; then
  problem "$slides links outside the repository (lines above): name the document in the repository instead"
fi

# 3. Every image shown, and the image of every diagram source, exists.
while read -r img; do
  [ -n "$img" ] || continue
  [ -f "$img" ] || problem "$slides shows $img, which does not exist"
done < <(shown_images)
for src in docs/deck/diagrams/*.mmd; do
  name="$(basename "$src" .mmd)"
  [ -f "docs/img/$name.png" ] || problem "$src has no rendered docs/img/$name.png: $rerender"
done
for out in docs/PRESENTATION.pdf docs/PRESENTATION.html; do
  [ -s "$out" ] || problem "$out is missing: $rerender"
done

# 4. Nothing changed since the last render.
if [ ! -f "$hashes" ]; then
  problem "$hashes is missing: $rerender"
else
  recorded="$(awk '{print $2}' "$hashes" | sed 's/^\*//' | sort -u)"
  current="$(sources | sort -u)"
  if [ "$recorded" != "$current" ]; then
    problem "the deck's sources are not the ones last rendered (added: $(comm -13 <(echo "$recorded") <(echo "$current") | tr '\n' ' ')removed: $(comm -23 <(echo "$recorded") <(echo "$current") | tr '\n' ' ')): $rerender"
  fi
  changed="$(sha256sum --check --quiet "$hashes" 2>/dev/null | sed -E 's/: FAILED.*//' | tr '\n' ' ' || true)"
  if [ -n "$changed" ]; then
    problem "changed since the last render: ${changed}— the PDF and HTML are stale: $rerender"
  fi
fi

# 5. The deck's plan and the roadmap's Gantt chart give the same milestone dates.
milestones() { grep -oE ':\s*milestone\s*,\s*m[0-9]+\s*,\s*[0-9]{4}-[0-9]{2}-[0-9]{2}' "$1" | tr -d ' ' | sed 's/^:milestone,//' | sort; }
if [ -f docs/deck/diagrams/plan.mmd ] && [ -f docs/ROADMAP.md ]; then
  deck_m="$(milestones docs/deck/diagrams/plan.mmd)"
  road_m="$(milestones docs/ROADMAP.md)"
  if [ "$deck_m" != "$road_m" ]; then
    problem "milestone dates differ between docs/deck/diagrams/plan.mmd ($(echo $deck_m)) and docs/ROADMAP.md ($(echo $road_m)): change both, then $rerender"
  fi
fi

if [ "$fail" != 0 ]; then exit 1; fi
echo "deck check: docs/PRESENTATION.pdf and .html are up to date with their sources ($(sources | sort -u | wc -l) files)"

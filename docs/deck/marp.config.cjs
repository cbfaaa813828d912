// Marp CLI settings for docs/deck/render.sh. A line break in a paragraph of
// docs/PRESENTATION.md is a space, as in any Markdown, not a forced break.
module.exports = {
  html: true,
  allowLocalFiles: true,
  options: { markdown: { breaks: false } },
}

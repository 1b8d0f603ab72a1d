// Highlights every <code class="highlight" data-language="…"> of the page
// with the vendored CodeMirror's parsers (class names only, so the page's
// strict CSP holds). The vendor prefix comes from an element's data-vendor.
const vendor = document.querySelector("[data-vendor]")?.dataset.vendor;
const blocks = document.querySelectorAll("code.highlight[data-language]");

if (vendor && blocks.length) {
  import(`${vendor}codemirror/code-editor.js`).then(
    ({ highlightElement }) => {
      for (const block of blocks) highlightElement(block, block.dataset.language);
    },
    () => {
      // Unhighlighted code reads the same.
    },
  );
}

// Stands in for @excalidraw/mermaid-to-excalidraw (about 3 MB with mermaid,
// cytoscape, katex and d3), which Excalidraw loads only to turn Mermaid text
// into a drawing. Mermaid adds inline <style> elements that a strict CSP
// refuses, and the whiteboard hides the menu item, so the build leaves it out.
// A pasted Mermaid definition is then pasted as plain text, as Excalidraw
// does whenever parsing fails.
export async function parseMermaidToExcalidraw() {
  throw new Error("Mermaid import is not part of this build");
}

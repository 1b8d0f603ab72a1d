import"./chunk-3RNHDNP5.js";async function r(){throw new Error("Mermaid import is not part of this build")}export{r as parseMermaidToExcalidraw};

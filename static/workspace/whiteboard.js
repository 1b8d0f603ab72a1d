//! The round workspace's whiteboard: Excalidraw (MIT) from the vendored
//! bundle, with every feature that would reach another host turned off, so a
//! drawing never leaves the user's server.
//!
//!   const board = await mountWhiteboard({
//!     parent,                                   // an element with a height
//!     vendorBaseUrl: "/static/vendor/<hash>/",  // where static/vendor is served
//!     scene,                                    // JSON from onChange, or null
//!     viewMode: false,                          // true: the interviewer's live, read-only view
//!     onChange: (sceneJson) => save(sceneJson), // the caller debounces
//!     nonce,                                    // the page's CSP style nonce (optional)
//!   });
//!   board.updateScene(sceneJson); await board.exportSvg(); board.destroy();
//!   board.excalidrawAPI  // Excalidraw's imperative API, for tests and extras
//!
//! Turned off: the library (its browser and publishing live on excalidraw.com),
//! embeds of web pages and videos (validateEmbeddable refuses every URL, and
//! the tool is hidden), share links and collaboration (no onExportToBackend,
//! no collaborators), AI and Mermaid-to-diagram (the build replaces
//! mermaid-to-excalidraw with a stub), the image tool (images would bloat the
//! saved scene; the scene is saved without binary files), and loading or
//! saving .excalidraw files. Fonts load from the vendored copy.
//!
//! CSP: Excalidraw's CSS is a <link> to the vendored index.css; the few rules
//! that hide the items above are a constructed stylesheet, which CSP does not
//! govern; a <style> element Radix may add carries `nonce`. exportSvg embeds
//! only the glyphs used, subset by WebAssembly in a module worker (a chunk of
//! the bundle): the page needs 'wasm-unsafe-eval' and worker-src 'self' for it.
//! The build patches Excalidraw where it would need 'unsafe-eval', an inline
//! style attribute or a CDN (scripts/vendor-src/build.mjs, PATCHES).
//!
//! Accessibility: three things axe-core finds in Excalidraw's own markup are
//! corrected as it renders (see namedControls).

const HIDDEN_UI = `
.excalidraw [data-testid="toolbar-embeddable"],
.excalidraw .default-sidebar-trigger,
.excalidraw .dropdown-menu-container > div:has(+ [data-testid="toolbar-embeddable"]) {
  display: none !important;
}`;

let hiddenUiSheet = null;

function loadStylesheet(href) {
  if (document.querySelector(`link[rel="stylesheet"][href="${CSS.escape(href)}"]`)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    link.onload = () => resolve();
    link.onerror = () => reject(new Error(`could not load ${href}`));
    document.head.append(link);
  });
}

function hideNetworkUi() {
  if (hiddenUiSheet) return;
  hiddenUiSheet = new CSSStyleSheet();
  hiddenUiSheet.replaceSync(HIDDEN_UI);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, hiddenUiSheet];
}

// Excalidraw's menu button has no accessible name, its zoom reset button is
// named "Reset zoom" while it shows "100%" (a name must hold the visible text),
// and its toolbar footer declares itself the page's contentinfo landmark. Fixed
// on every render, as React keeps the attributes it does not set itself.
function namedControls(root) {
  const fix = () => {
    for (const button of root.querySelectorAll(".main-menu-trigger:not([aria-label])")) {
      button.setAttribute("aria-label", "Whiteboard menu");
    }
    for (const button of root.querySelectorAll(".reset-zoom-button")) {
      const label = `Reset zoom: ${button.textContent.trim()}`;
      if (button.getAttribute("aria-label") !== label) button.setAttribute("aria-label", label);
    }
    for (const footer of root.querySelectorAll("footer[role=contentinfo]")) footer.removeAttribute("role");
  };
  fix();
  const observer = new MutationObserver(fix);
  observer.observe(root, { childList: true, subtree: true, characterData: true });
  return observer;
}

function parseScene(sceneJson) {
  if (!sceneJson) return { elements: [], appState: {} };
  const scene = typeof sceneJson === "string" ? JSON.parse(sceneJson) : sceneJson;
  return { elements: scene.elements ?? [], appState: scene.appState ?? {} };
}

// Changes of the drawing itself, not of the cursor, selection or scroll
// (Excalidraw calls onChange for all of them).
function drawingKey(elements, appState) {
  let versions = 0;
  for (const element of elements) versions += element.version;
  return `${elements.length}:${versions}:${appState.viewBackgroundColor}`;
}

export async function mountWhiteboard({ parent, vendorBaseUrl, scene = null, viewMode = false, onChange, nonce }) {
  const base = new URL("excalidraw/", new URL(vendorBaseUrl.endsWith("/") ? vendorBaseUrl : `${vendorBaseUrl}/`, document.baseURI));
  // Excalidraw loads its fonts from here (the build also points its CDN
  // fallback at the bundle's own directory).
  window.EXCALIDRAW_ASSET_PATH = base.href;
  const [lib] = await Promise.all([import(new URL("excalidraw.js", base).href), loadStylesheet(new URL("index.css", base).href)]);
  hideNetworkUi();
  if (nonce) lib.setNonce(nonce);
  const h = lib.createElement;

  const initial = parseScene(scene);
  // Excalidraw's default background, so mounting alone does not count as a change.
  let lastKey = drawingKey(initial.elements, { viewBackgroundColor: initial.appState.viewBackgroundColor ?? "#ffffff" });
  let api;
  const apiReady = new Promise((resolve) => {
    api = resolve;
  });

  const menuItems = [
    !viewMode && h(lib.MainMenu.DefaultItems.ClearCanvas, { key: "clear" }),
    h(lib.MainMenu.DefaultItems.SaveAsImage, { key: "image" }),
    h(lib.MainMenu.DefaultItems.Help, { key: "help" }),
    h(lib.MainMenu.DefaultItems.ToggleTheme, { key: "theme" }),
    !viewMode && h(lib.MainMenu.DefaultItems.ChangeCanvasBackground, { key: "background" }),
  ].filter(Boolean);

  const root = lib.createRoot(parent);
  root.render(
    h(
      lib.Excalidraw,
      {
        excalidrawAPI: (excalidrawApi) => api(excalidrawApi),
        initialData: { elements: initial.elements, appState: initial.appState, scrollToContent: true },
        viewModeEnabled: viewMode,
        langCode: "en",
        aiEnabled: false,
        validateEmbeddable: () => false,
        UIOptions: {
          canvasActions: {
            export: false,
            loadScene: false,
            saveToActiveFile: false,
            saveAsImage: true,
            clearCanvas: !viewMode,
            changeViewBackgroundColor: !viewMode,
            toggleTheme: true,
          },
          tools: { image: false },
        },
        onChange: (elements, appState, files) => {
          if (viewMode || !onChange) return;
          const key = drawingKey(elements, appState);
          if (key === lastKey) return;
          lastKey = key;
          onChange(lib.serializeAsJSON(elements, appState, files, "database"));
        },
      },
      h(lib.MainMenu, null, ...menuItems),
    ),
  );
  const excalidraw = await apiReady;
  const accessibility = namedControls(parent);

  return {
    // Excalidraw's own API, for what this wrapper does not cover (tests add
    // shapes with excalidrawAPI.updateScene, which calls onChange like a user's edit).
    excalidrawAPI: excalidraw,

    // Replaces the drawing (a newer saved version, or the candidate's live
    // scene in the viewer) without adding to undo history or calling onChange.
    updateScene(sceneJson) {
      const next = parseScene(sceneJson);
      const wasEmpty = excalidraw.getSceneElements().length === 0;
      const elements = lib.restoreElements(next.elements, null);
      const appState = {};
      if (next.appState.viewBackgroundColor) appState.viewBackgroundColor = next.appState.viewBackgroundColor;
      lastKey = drawingKey(elements, { ...excalidraw.getAppState(), ...appState });
      excalidraw.updateScene({ elements, appState, captureUpdate: lib.CaptureUpdateAction.NEVER });
      if (wasEmpty && elements.length) excalidraw.scrollToContent(undefined, { fitToContent: true });
    },

    // The drawing as a standalone SVG document (fonts embedded as data URLs),
    // for the feedback page and the Markdown export. Show it with <img> or as
    // a file: inlined into a page, its <style> would meet the page's CSP.
    async exportSvg() {
      const svg = await lib.exportToSvg({
        elements: excalidraw.getSceneElements(),
        appState: { ...excalidraw.getAppState(), exportBackground: true, exportWithDarkMode: false },
        files: excalidraw.getFiles(),
        exportPadding: 16,
      });
      return new XMLSerializer().serializeToString(svg);
    },

    destroy() {
      accessibility.disconnect();
      root.unmount();
    },
  };
}

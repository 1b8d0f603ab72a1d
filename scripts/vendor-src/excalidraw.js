// Entry of the Excalidraw bundle (static/vendor/excalidraw/excalidraw.js):
// only what static/workspace/whiteboard.js uses, so esbuild can leave the rest
// out. React 19 comes from the same bundle, so the page loads one copy.
export {
  CaptureUpdateAction,
  Excalidraw,
  MainMenu,
  exportToSvg,
  restoreElements,
  serializeAsJSON,
} from "@excalidraw/excalidraw";
export { createElement } from "react";
export { createRoot } from "react-dom/client";
// react-remove-scroll (in Radix popovers) adds <style> elements; they carry
// this nonce, so the page's CSP needs no 'unsafe-inline' for styles.
export { setNonce } from "get-nonce";

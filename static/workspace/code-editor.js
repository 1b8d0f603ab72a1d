//! The round workspace's code editor: CodeMirror 6 with Python and C++ modes.
//!
//! This file is the source of a bundle, not a file the server serves:
//! scripts/vendor-assets builds it, with the CodeMirror packages it imports,
//! into static/vendor/codemirror/code-editor.js. Pages import that built file
//! from the content-hashed vendor prefix, e.g.
//!
//!   import { createCodeEditor } from "/static/vendor/<hash>/codemirror/code-editor.js";
//!
//! Bundling it (rather than importing CodeMirror at run time) keeps the API
//! synchronous and needs no import map, which a strict CSP would refuse as an
//! inline script. After editing this file run scripts/vendor-assets;
//! `scripts/vendor-assets --check` fails until the bundle is rebuilt.
//!
//! Keyboard: Tab indents (indentWithTab). To leave the editor with the
//! keyboard press Escape, then Tab (or Ctrl-M / Shift-Alt-M on macOS to toggle
//! "Tab moves focus"), as CodeMirror documents. No autocompletion: the round
//! practises writing code unaided.
//!
//! CodeMirror injects its styles in <style> elements; they carry `nonce`, so
//! the page's CSP can allow them with 'nonce-…' instead of 'unsafe-inline'.

import { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { cpp } from "@codemirror/lang-cpp";
import { python } from "@codemirror/lang-python";
import {
  bracketMatching,
  defaultHighlightStyle,
  indentOnInput,
  indentUnit,
  syntaxHighlighting,
} from "@codemirror/language";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { Annotation, Compartment, EditorState } from "@codemirror/state";
import { classHighlighter, highlightCode } from "@lezer/highlight";
import {
  EditorView,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
} from "@codemirror/view";

const LANGUAGES = { python, cpp };

// Highlights the text of `element` (a <code> or <pre>) in place, with class
// names (`tok-keyword`, `tok-string`, …) that app.css colours: no editor, no
// injected styles, so a page with the site-wide CSP can use it, and it prints.
export function highlightElement(element, language) {
  const make = LANGUAGES[language];
  if (!make) return;
  const code = element.textContent;
  const tree = make().language.parser.parse(code);
  const fragment = document.createDocumentFragment();
  highlightCode(
    code,
    tree,
    classHighlighter,
    (text, classes) => {
      if (!classes) {
        fragment.append(text);
        return;
      }
      const span = document.createElement("span");
      span.className = classes;
      span.textContent = text;
      fragment.append(span);
    },
    () => fragment.append("\n"),
  );
  element.replaceChildren(fragment);
}

// Marks transactions made by setDoc, so they are not reported as edits.
const external = Annotation.define();

function languageExtension(language) {
  const make = LANGUAGES[language];
  if (!make) throw new Error(`unknown editor language: ${language}`);
  return make();
}

// Read-only keeps the content focusable (so a keyboard or screen-reader user
// can move through the code) but refuses changes.
function readOnlyExtension(flag) {
  return EditorState.readOnly.of(Boolean(flag));
}

export function createCodeEditor({
  parent,
  doc = "",
  language = "python",
  readOnly = false,
  label,
  nonce,
  onChange,
}) {
  const languageSlot = new Compartment();
  const readOnlySlot = new Compartment();

  const extensions = [
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    history(),
    drawSelection(),
    indentUnit.of("    "),
    EditorState.tabSize.of(4),
    indentOnInput(),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    bracketMatching(),
    closeBrackets(),
    highlightActiveLine(),
    highlightSelectionMatches(),
    keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap, indentWithTab]),
    languageSlot.of(languageExtension(language)),
    readOnlySlot.of(readOnlyExtension(readOnly)),
    // tabindex: a long line scrolls the editor sideways, and the scrolling region must be
    // reachable by keyboard as such (axe: scrollable-region-focusable), not only as an input.
    EditorView.contentAttributes.of({ "aria-label": label || "Code editor", tabindex: "0" }),
    EditorView.theme({
      "&": { height: "100%" },
      ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" },
    }),
    EditorView.updateListener.of((update) => {
      if (!onChange || !update.docChanged) return;
      if (update.transactions.every((tr) => tr.annotation(external))) return;
      onChange(update.state.doc.toString());
    }),
  ];
  if (nonce) extensions.push(EditorView.cspNonce.of(nonce));

  const view = new EditorView({ parent, state: EditorState.create({ doc, extensions }) });

  return {
    getDoc: () => view.state.doc.toString(),

    // Replaces the text without reporting it through onChange (for a remote
    // version or the interviewer's live view). Only the differing middle is
    // replaced, so the selection and scroll position survive small updates.
    setDoc(text) {
      const old = view.state.doc.toString();
      if (old === text) return;
      let start = 0;
      const shorter = Math.min(old.length, text.length);
      while (start < shorter && old.charCodeAt(start) === text.charCodeAt(start)) start++;
      let oldEnd = old.length;
      let newEnd = text.length;
      while (oldEnd > start && newEnd > start && old.charCodeAt(oldEnd - 1) === text.charCodeAt(newEnd - 1)) {
        oldEnd--;
        newEnd--;
      }
      view.dispatch({
        changes: { from: start, to: oldEnd, insert: text.slice(start, newEnd) },
        annotations: external.of(true),
      });
    },

    setLanguage(lang) {
      view.dispatch({ effects: languageSlot.reconfigure(languageExtension(lang)) });
    },

    setReadOnly(flag) {
      view.dispatch({ effects: readOnlySlot.reconfigure(readOnlyExtension(flag)) });
    },

    focus: () => view.focus(),

    destroy: () => view.destroy(),
  };
}

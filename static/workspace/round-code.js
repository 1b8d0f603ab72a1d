// The round page's code panel. The candidate's <textarea> (which posts
// without JavaScript) becomes a CodeMirror editor with a language picker,
// debounced autosave, a draft in localStorage through a dropped connection
// and a visible conflict when the code was saved elsewhere (never a silent
// overwrite), as static/round.js does for notes. The interviewer's plain
// <pre> becomes a read-only editor that follows the `code` live event, which
// static/round.js receives and passes on as a `mockloop:code` DOM event.

import "./highlight.js";
import { setUpCandidateRuns, setUpInterviewerRuns } from "./test-runs.js";

const panel = document.getElementById("code");
const vendor = panel && panel.dataset.vendor;
const nonce = panel && panel.dataset.nonce;

if (panel && vendor) {
  import(`${vendor}codemirror/code-editor.js`).then(
    ({ createCodeEditor }) => {
      if (document.getElementById("code-form")) candidate(createCodeEditor);
      else interviewer(createCodeEditor);
    },
    () => {
      // Without the editor the textarea still saves; say nothing alarming.
    },
  );
}

function candidate(createCodeEditor) {
  const form = document.getElementById("code-form");
  const textarea = document.getElementById("code-body");
  const language = document.getElementById("code-language");
  const version = document.getElementById("code-version");
  const status = document.getElementById("code-status");
  const conflictBox = document.getElementById("code-conflict");
  const mount = document.getElementById("code-editor");
  const draftKey = `mockloop:code:${form.dataset.round}`;
  let saveTimer = null;
  let saving = null;
  let inConflict = false;
  let lastSaved = { body: textarea.value, language: language.value };

  const editor = createCodeEditor({
    parent: mount,
    doc: textarea.value,
    language: language.value,
    label: "Your code",
    nonce,
    onChange(text) {
      textarea.value = text;
      writeDraft();
      setStatus("Unsaved changes", "unsaved");
      scheduleSave();
    },
  });
  textarea.hidden = true;
  mount.hidden = false;

  function readDraft() {
    try {
      return JSON.parse(localStorage.getItem(draftKey) || "null");
    } catch {
      return null;
    }
  }
  function writeDraft() {
    try {
      localStorage.setItem(
        draftKey,
        JSON.stringify({ body: editor.getDoc(), language: language.value, base: Number(version.value) || 0 }),
      );
    } catch {
      /* storage full or disabled */
    }
  }
  function clearDraft() {
    try {
      localStorage.removeItem(draftKey);
    } catch {
      /* ignore */
    }
  }
  function setStatus(text, kind) {
    status.textContent = text;
    status.className = `save-status ${kind || ""}`;
  }

  function post(body, keepalive) {
    return fetch(form.getAttribute("action"), {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ body, language: language.value, base_version: version.value }).toString(),
      credentials: "same-origin",
      keepalive: !!keepalive && body.length < 60000,
    });
  }

  function save(keepalive) {
    if (inConflict) return Promise.resolve();
    const body = editor.getDoc();
    const lang = language.value;
    if (body === lastSaved.body && lang === lastSaved.language) return Promise.resolve();
    if (saving) return saving.then(() => save(keepalive));
    setStatus("Saving…", "saving");
    saving = post(body, keepalive)
      .then((response) => {
        if (response.status === 409) {
          return response.json().then((answer) => {
            if (answer.closed) {
              inConflict = true; // nothing more is sent; the draft stays in this browser
              writeDraft();
              setStatus(answer.closed, "offline");
            } else {
              showConflict(answer);
            }
          });
        }
        if (response.status === 413) {
          return response.text().then(() => {
            setStatus("Not saved: code is limited to 100 000 characters.", "offline");
          });
        }
        if (!response.ok) throw new Error(`save failed: ${response.status}`);
        return response.json().then((saved) => {
          version.value = saved.version;
          lastSaved = { body, language: lang };
          if (editor.getDoc() === body && language.value === lang) {
            clearDraft();
            setStatus(`Saved at ${new Date(saved.saved_at).toLocaleTimeString()}`, "saved");
          } else {
            writeDraft();
            scheduleSave();
          }
        });
      })
      .catch(() => {
        writeDraft();
        setStatus("Offline: your code is kept in this browser and will be sent again.", "offline");
        setTimeout(() => save(false), 5000);
      })
      .then(() => {
        saving = null;
      });
    return saving;
  }

  function scheduleSave() {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => save(false), 800);
  }
  function flush(keepalive) {
    clearTimeout(saveTimer);
    return save(keepalive);
  }

  function showConflict(current) {
    inConflict = true;
    writeDraft();
    document.getElementById("code-theirs").textContent = current.body;
    conflictBox.hidden = false;
    conflictBox.dataset.version = current.version;
    conflictBox.dataset.body = current.body;
    conflictBox.dataset.language = current.language;
    setStatus("Not saved: choose a version below.", "offline");
  }

  setUpCandidateRuns({
    getCode: () => editor.getDoc(),
    getLanguage: () => language.value,
    saveFirst: () => flush(false),
    getVersion: () => Number(version.value) || 0,
  });

  language.addEventListener("change", () => {
    document.dispatchEvent(new CustomEvent("mockloop:language"));
    editor.setLanguage(language.value);
    writeDraft();
    setStatus("Unsaved changes", "unsaved");
    scheduleSave();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    flush(false);
  });
  document.getElementById("code-keep-mine").addEventListener("click", () => {
    version.value = conflictBox.dataset.version;
    inConflict = false;
    conflictBox.hidden = true;
    lastSaved = { body: null, language: null };
    save(false);
  });
  document.getElementById("code-use-theirs").addEventListener("click", () => {
    editor.setDoc(conflictBox.dataset.body);
    textarea.value = conflictBox.dataset.body;
    if (conflictBox.dataset.language) {
      language.value = conflictBox.dataset.language;
      editor.setLanguage(language.value);
    }
    version.value = conflictBox.dataset.version;
    lastSaved = { body: editor.getDoc(), language: language.value };
    inConflict = false;
    conflictBox.hidden = true;
    clearDraft();
    setStatus("Saved", "saved");
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") flush(true);
  });
  window.addEventListener("pagehide", () => flush(true));
  window.addEventListener("online", () => save(false));

  // A draft left by a dropped connection or a closed tab is sent again.
  const draft = readDraft();
  if (draft && (draft.body !== editor.getDoc() || draft.language !== language.value)) {
    const serverVersion = Number(version.value) || 0;
    if (draft.base === serverVersion) {
      editor.setDoc(draft.body);
      textarea.value = draft.body;
      if (draft.language) {
        language.value = draft.language;
        editor.setLanguage(draft.language);
      }
      setStatus("Restored unsaved code; saving…", "unsaved");
      save(false);
    } else {
      const theirs = editor.getDoc();
      editor.setDoc(draft.body);
      textarea.value = draft.body;
      showConflict({ body: theirs, version: serverVersion, language: language.value });
    }
  } else if (draft) {
    clearDraft();
  }
}

function interviewer(createCodeEditor) {
  const plain = document.getElementById("code-plain");
  const languageLabel = document.getElementById("code-language-label");
  const mount = document.getElementById("code-editor");
  let shown = Number(panel.dataset.version) || 0;
  const editor = createCodeEditor({
    parent: mount,
    doc: plain.textContent,
    language: panel.dataset.language || "python",
    readOnly: true,
    label: "The candidate's code (read-only)",
    nonce,
  });
  plain.hidden = true;
  mount.hidden = false;
  setUpInterviewerRuns();
  document.addEventListener("mockloop:code", (event) => {
    const code = event.detail;
    if (!code || code.version === shown) return;
    shown = code.version;
    editor.setLanguage(code.language);
    editor.setDoc(code.body);
    plain.textContent = code.body;
    panel.dataset.version = code.version;
    if (languageLabel) languageLabel.textContent = code.language === "cpp" ? "C++" : "Python";
  });
}

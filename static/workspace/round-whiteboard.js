// The round page's whiteboard panel. When the panel opens, Excalidraw
// (./whiteboard.js over the vendored bundle) replaces the saved image: for the
// candidate an editor whose drawing autosaves as notes and code do (debounced,
// a draft in localStorage through a dropped connection, a visible conflict
// when it was saved elsewhere, never a silent overwrite; each save carries the
// SVG export, which the server sanitises for feedback and exports); for the
// interviewer a read-only view that follows the `scene` live event, which
// static/round.js receives and passes on as a `mockloop:scene` DOM event.

const panel = document.getElementById("whiteboard");

if (panel) {
  const details = document.getElementById("whiteboard-details");
  const editing = panel.dataset.mode === "edit";
  const draftKey = `mockloop:scene:${panel.dataset.round}`;
  // The newest drawing the live stream sent, applied when the view mounts.
  let latest = { version: Number(panel.dataset.version) || 0, scene: panel.dataset.scene || null };
  let mounted = null;

  const mount = () => {
    mounted ??= import(panel.dataset.board)
      .then(({ mountWhiteboard }) => (editing ? candidate(mountWhiteboard) : interviewer(mountWhiteboard)))
      .catch(() => {
        // The saved image stays in view; the candidate is told the editor is missing.
        const status = document.getElementById("whiteboard-status");
        if (status) status.textContent = "The whiteboard could not load here; your saved drawing is shown instead.";
      });
    return mounted;
  };

  if (!editing) {
    document.addEventListener("mockloop:scene", (event) => {
      if (event.detail && event.detail.version > latest.version) latest = event.detail;
    });
  }
  // A draft left by a dropped connection or a closed tab opens the panel, which restores and sends it.
  if (editing && readDraft()) details.open = true;
  if (details.open) mount();
  details.addEventListener("toggle", () => {
    if (details.open) mount();
  });

  function readDraft() {
    try {
      return JSON.parse(localStorage.getItem(draftKey) || "null");
    } catch {
      return null;
    }
  }

  // One JSON spelling for a scene (Excalidraw indents it), so equal drawings compare equal and posts stay small.
  function compact(sceneJson) {
    return sceneJson ? JSON.stringify(JSON.parse(sceneJson)) : "";
  }

  function showBoard() {
    const canvas = document.getElementById("whiteboard-canvas");
    for (const id of ["whiteboard-image", "whiteboard-empty"]) {
      const fallback = document.getElementById(id);
      if (fallback) fallback.hidden = true;
    }
    canvas.hidden = false;
    return canvas;
  }

  async function interviewer(mountWhiteboard) {
    const status = document.getElementById("whiteboard-live-status");
    const board = await mountWhiteboard({
      parent: showBoard(),
      vendorBaseUrl: panel.dataset.vendor,
      scene: latest.scene,
      viewMode: true,
      nonce: panel.dataset.nonce,
    });
    let shown = latest.version;
    const apply = () => {
      if (latest.version === shown) return;
      shown = latest.version;
      board.updateScene(latest.scene);
      panel.dataset.version = shown;
      status.textContent = `Updated at ${new Date().toLocaleTimeString()}`;
    };
    document.addEventListener("mockloop:scene", () => apply());
    apply();
  }

  async function candidate(mountWhiteboard) {
    const status = document.getElementById("whiteboard-status");
    const conflictBox = document.getElementById("whiteboard-conflict");
    const theirsImage = document.getElementById("whiteboard-theirs");
    const theirsNone = document.getElementById("whiteboard-theirs-none");
    const storedImage = document.getElementById("whiteboard-image");
    const action = `/rounds/${panel.dataset.round}/scene`;
    let version = Number(panel.dataset.version) || 0;
    let lastSaved = compact(panel.dataset.scene);
    let current = lastSaved;
    let theirs = null;
    let saveTimer = null;
    let saving = null;
    let inConflict = false;
    // The SVG exported for `exported.scene`, reused when the page is leaving and cannot wait for an export.
    let exported = { scene: null, svg: "" };

    const setStatus = (text, kind) => {
      status.textContent = text;
      status.className = `save-status ${kind || ""}`;
    };
    const writeDraft = () => {
      try {
        localStorage.setItem(draftKey, JSON.stringify({ scene: current, base: version }));
      } catch {
        /* storage full or disabled */
      }
    };
    const clearDraft = () => {
      try {
        localStorage.removeItem(draftKey);
      } catch {
        /* ignore */
      }
    };

    const board = await mountWhiteboard({
      parent: showBoard(),
      vendorBaseUrl: panel.dataset.vendor,
      scene: panel.dataset.scene || null,
      viewMode: false,
      nonce: panel.dataset.nonce,
      onChange(sceneJson) {
        current = compact(sceneJson);
        writeDraft();
        setStatus("Unsaved changes", "unsaved");
        scheduleSave();
      },
    });

    async function exportSvg(scene) {
      if (exported.scene !== scene) {
        try {
          exported = { scene, svg: await board.exportSvg() };
        } catch {
          exported = { scene, svg: "" };
        }
      }
      return exported.svg;
    }

    function post(scene, svg, keepalive) {
      const body = new URLSearchParams({ scene, svg, base_version: String(version) }).toString();
      return fetch(action, {
        method: "POST",
        headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
        body,
        credentials: "same-origin",
        keepalive: !!keepalive && body.length < 60000,
      });
    }

    // Sends the drawing as it is now; `leaving`: the page is going away, so no
    // export is awaited (the image of the last export is sent if it is current).
    function save(leaving) {
      if (inConflict || current === lastSaved) return Promise.resolve();
      if (saving) return leaving ? Promise.resolve() : saving.then(() => save(false));
      const scene = current;
      if (leaving) {
        post(scene, exported.scene === scene ? exported.svg : "", true).catch(() => {});
        return Promise.resolve();
      }
      setStatus("Saving…", "saving");
      saving = exportSvg(scene)
        .then((svg) => post(scene, svg, false))
        .then(async (response) => {
          if (response.status === 409) return showConflict(await response.json());
          if (response.status === 413 || response.status === 400) {
            const page = new DOMParser().parseFromString(await response.text(), "text/html");
            const message = page.querySelector(".error-page p");
            setStatus(`Not saved: ${message ? message.textContent : `the server refused (${response.status})`}`, "offline");
            return;
          }
          if (!response.ok) throw new Error(`save failed: ${response.status}`);
          const saved = await response.json();
          version = saved.version;
          lastSaved = scene;
          if (current === scene) {
            clearDraft();
            setStatus(`Saved at ${new Date(saved.saved_at).toLocaleTimeString()}`, "saved");
          } else {
            writeDraft();
            scheduleSave();
          }
        })
        .catch(() => {
          writeDraft();
          setStatus("Offline: your drawing is kept in this browser and will be sent again.", "offline");
          setTimeout(() => save(false), 5000);
        })
        .finally(() => {
          saving = null;
        });
      return saving;
    }

    function scheduleSave() {
      clearTimeout(saveTimer);
      saveTimer = setTimeout(() => save(false), 800);
    }
    function flush(leaving) {
      clearTimeout(saveTimer);
      return save(leaving);
    }

    function showConflict(stored) {
      inConflict = true;
      theirs = stored;
      writeDraft();
      theirsImage.hidden = !stored.image;
      theirsNone.hidden = !!stored.image;
      if (stored.image) theirsImage.src = stored.image;
      conflictBox.hidden = false;
      setStatus("Not saved: choose a version below.", "offline");
    }

    document.getElementById("whiteboard-keep-mine").addEventListener("click", () => {
      version = theirs.version;
      inConflict = false;
      conflictBox.hidden = true;
      lastSaved = null;
      save(false);
    });
    document.getElementById("whiteboard-use-theirs").addEventListener("click", () => {
      board.updateScene(theirs.scene || null);
      current = lastSaved = compact(theirs.scene);
      version = theirs.version;
      inConflict = false;
      conflictBox.hidden = true;
      clearDraft();
      setStatus("Saved", "saved");
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") flush(false);
    });
    window.addEventListener("pagehide", () => flush(true));
    window.addEventListener("online", () => save(false));

    // A draft left by a dropped connection or a closed tab is sent again, or
    // shown beside the version saved since.
    const draft = readDraft();
    if (draft && draft.scene !== lastSaved) {
      board.updateScene(draft.scene || null);
      current = draft.scene;
      if (draft.base === version) {
        setStatus("Restored an unsaved drawing; saving…", "unsaved");
        save(false);
      } else {
        showConflict({ version, scene: panel.dataset.scene, image: storedImage ? storedImage.src : null });
      }
    } else if (draft) {
      clearDraft();
    } else if (lastSaved && panel.dataset.imageCurrent !== "true") {
      // Saved while the page was leaving, without an image of its own: export it now.
      lastSaved = null;
      save(false);
    }
  }
}

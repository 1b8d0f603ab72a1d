// Round page: a live countdown driven by the server's timer events, timer
// buttons without page reloads, and notes that autosave, survive a dropped
// connection (kept in localStorage and sent again) and never overwrite a
// version saved elsewhere. Without this script the page still works: forms
// post and the server renders the time.
(function () {
  "use strict";

  var panel = document.getElementById("timer");
  if (!panel) return;
  var roundId = panel.dataset.round;
  var clock = document.getElementById("clock");
  var stateText = document.getElementById("timer-state");
  var announcer = document.getElementById("timer-announcer");
  var connection = document.getElementById("connection");
  var state = panel.dataset.state;
  var remainingAtSync = parseInt(panel.dataset.remainingMs, 10) || 0;
  var syncedAt = performance.now();
  var lastMilestone = milestoneOf(remainingAtSync);
  var version = parseInt(panel.dataset.version, 10) || 0;

  function milestoneOf(ms) {
    if (ms <= 0) return "time-up";
    if (ms <= 60000) return "one-minute";
    if (ms <= 300000) return "five-minutes";
    return "none";
  }

  var postForm = window.mockloop.postForm;
  var formatClock = window.mockloop.formatClock;

  function currentRemaining() {
    return state === "running" ? remainingAtSync - (performance.now() - syncedAt) : remainingAtSync;
  }

  var announcements = {
    "five-minutes": "Five minutes left.",
    "one-minute": "One minute left.",
    "time-up": "Time is up. The clock now counts overtime."
  };

  function render() {
    var ms = currentRemaining();
    clock.textContent = formatClock(ms);
    var milestone = milestoneOf(ms);
    clock.className = "clock milestone-" + milestone;
    // Only crossings are announced, never the ticking itself.
    if (milestone !== lastMilestone && state === "running" && announcements[milestone]) {
      announcer.textContent = announcements[milestone];
    }
    lastMilestone = milestone;
  }

  var currentQuestion = null;

  function apply(timer) {
    var previous = state;
    var previousQuestion = currentQuestion;
    currentQuestion = timer.current_question;
    state = timer.state;
    remainingAtSync = timer.remaining_ms;
    syncedAt = performance.now();
    version = timer.version;
    panel.dataset.state = state;
    panel.className = "timer-panel state-" + state;
    stateText.textContent = timer.state_label + (timer.remaining_ms < 0 ? " · overtime" : "");
    lastMilestone = milestoneOf(timer.remaining_ms);
    render();
    // Starting reveals the question and ending shows the summary: both are new page content.
    var movedOn = previousQuestion !== null && previousQuestion !== currentQuestion;
    if (movedOn || (previous !== state && (previous === "not_started" || state === "ended" || state === "not_started"))) {
      flushNotes(true).then(function () { window.location.reload(); });
      return;
    }
    updateControls(timer);
    updateBudgets(timer);
  }

  function updateControls(timer) {
    var show = {
      "timer-start": state === "not_started",
      "timer-pause": state === "running",
      "timer-resume": state === "paused",
      "timer-extend": state !== "ended",
      "timer-end": state === "running" || state === "paused",
      "timer-next-question": (state === "running" || state === "paused") && timer.current_question < timer.questions.length
    };
    Object.keys(show).forEach(function (id) {
      var button = document.getElementById(id);
      if (button) button.closest("form").hidden = !show[id];
    });
  }

  function updateBudgets(timer) {
    var list = document.getElementById("question-budgets");
    if (!list) return;
    timer.questions.forEach(function (q) {
      var item = list.querySelector('[data-position="' + q.position + '"]');
      if (!item) return;
      item.className = (q.is_current ? "current" : "") + (q.overran ? " overran" : "");
      item.textContent = "Question " + q.position + ": " + q.used_clock + " of " + q.budget_clock +
        (q.is_current ? " · running" : "") + (q.overran ? " · over budget" : "");
    });
  }

  setInterval(render, 250);

  // The browser reconnects a dropped stream by itself, but gives up for good on an
  // answer other than 200 (a restarting instance's 503, a proxy's 502, the 429 for
  // too many open pages): then open a new one after a while.
  function listen() {
    var source = new EventSource(panel.dataset.events);
    source.addEventListener("timer", function (event) {
      connection.textContent = "";
      try {
        var timer = JSON.parse(event.data);
        apply(timer);
        document.dispatchEvent(new CustomEvent("mockloop:timer", { detail: timer }));
      } catch (e) { /* a malformed event changes nothing */ }
    });
    source.addEventListener("scratchpad", function (event) {
      var view = document.getElementById("notes-rendered");
      try {
        var note = JSON.parse(event.data);
        // The server sanitised this HTML when the note was saved.
        if (view && String(note.version) !== view.dataset.version) {
          view.innerHTML = note.html;
          view.dataset.version = note.version;
        }
      } catch (e) { /* a malformed event changes nothing */ }
    });
    // The candidate's code, for the read-only editor of static/workspace/round-code.js.
    source.addEventListener("code", function (event) {
      try {
        document.dispatchEvent(new CustomEvent("mockloop:code", { detail: JSON.parse(event.data) }));
      } catch (e) { /* a malformed event changes nothing */ }
    });
    // The candidate's test runs, for static/workspace/test-runs.js.
    source.addEventListener("run", function (event) {
      try {
        document.dispatchEvent(new CustomEvent("mockloop:run", { detail: JSON.parse(event.data) }));
      } catch (e) { /* a malformed event changes nothing */ }
    });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) {
        connection.textContent = "Live updates paused; trying again shortly. The timer keeps running on the server.";
        setTimeout(listen, 5000);
      } else {
        connection.textContent = "Reconnecting… the timer keeps running on the server.";
      }
    });
  }

  if (window.EventSource) listen();

  // Timer buttons: post in the background, show the answer at once.
  document.querySelectorAll(".timer-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button");
      button.disabled = true;
      var data = new URLSearchParams(new FormData(form));
      var reason = document.getElementById("timer-reason");
      if (reason && reason.value.trim()) {
        data.set("reason", reason.value.trim());
        reason.value = "";
      }
      // getAttribute: the form's "action" input would shadow form.action.
      postForm(form.getAttribute("action"), data).then(function (response) {
        var type = response.headers.get("content-type") || "";
        if (type.indexOf("application/json") === 0) {
          return response.json().then(function (body) {
            connection.textContent = body.error ? "Not done: " + body.error + "." : "";
            if (body.timer) apply(body.timer);
          });
        }
        // A refusal comes as an error page: show its message here.
        return response.text().then(function (html) {
          var page = new DOMParser().parseFromString(html, "text/html");
          var message = page.querySelector(".error-page p");
          connection.textContent = message ? message.textContent : "The server refused (" + response.status + ").";
        });
      }).catch(function () {
        connection.textContent = "Could not reach the server; try again.";
      }).then(function () { button.disabled = false; });
    });
  });

  // Hint and follow-up ticks save as they change -------------------------------
  var marks = document.getElementById("marks-form");
  if (marks) {
    var marksStatus = document.getElementById("marks-status");
    marks.addEventListener("change", function () {
      marksStatus.textContent = "Saving…";
      postForm(marks.getAttribute("action"), new FormData(marks)).then(function (response) {
        marksStatus.textContent = response.ok ? "Saved" : "Not saved (" + response.status + ")";
      }).catch(function () { marksStatus.textContent = "Offline: press Save ticks when back."; });
    });
  }

  // Markers: the interviewer's moments on the round's clock, kept without leaving the page.
  var markerForm = document.getElementById("markers");
  if (markerForm) {
    var markerLabel = document.getElementById("marker-label");
    var markerStatus = document.getElementById("marker-status");
    markerForm.addEventListener("submit", function (event) {
      event.preventDefault();
      markerStatus.textContent = "Saving…";
      postForm(markerForm.getAttribute("action"), { label: markerLabel.value }).then(function (response) {
        if (!response.ok) {
          markerStatus.textContent = response.status === 400 ? "Write a few words for the marker." : "Not saved (" + response.status + ")";
          return;
        }
        return response.json().then(function (marker) {
          markerStatus.textContent = "Marker at " + marker.clock + ": " + marker.label;
          markerLabel.value = "";
        });
      }).catch(function () { markerStatus.textContent = "Not saved: the server could not be reached."; });
    });
  }

  // Notes ------------------------------------------------------------------
  var notesForm = document.getElementById("notes-form");
  var notes = document.getElementById("notes-body");
  var notesVersion = document.getElementById("notes-version");
  var status = document.getElementById("notes-status");
  var conflictBox = document.getElementById("notes-conflict");
  var draftKey = "mockloop:notes:" + roundId + ":" + (notesForm ? notesForm.dataset.kind : "");
  var saveTimer = null;
  var saving = null;
  var lastSaved = notes ? notes.value : "";
  var inConflict = false;

  function readDraft() {
    try { return JSON.parse(localStorage.getItem(draftKey) || "null"); } catch (e) { return null; }
  }
  function writeDraft() {
    try { localStorage.setItem(draftKey, JSON.stringify({ body: notes.value, base: parseInt(notesVersion.value, 10) || 0 })); } catch (e) { /* storage full or disabled */ }
  }
  function clearDraft() {
    try { localStorage.removeItem(draftKey); } catch (e) { /* ignore */ }
  }

  function setStatus(text, kind) {
    status.textContent = text;
    status.className = "save-status " + (kind || "");
  }

  function save(keepalive) {
    if (!notes || inConflict) return Promise.resolve();
    if (notes.value === lastSaved) return Promise.resolve();
    if (saving) return saving.then(function () { return save(keepalive); });
    var body = notes.value;
    setStatus("Saving…", "saving");
    saving = postForm(notesForm.getAttribute("action"), { body: body, base_version: notesVersion.value },
      !!keepalive && body.length < 60000).then(function (response) {
      if (response.status === 409) {
        return response.json().then(showConflict);
      }
      if (!response.ok) throw new Error("save failed: " + response.status);
      return response.json().then(function (saved) {
        notesVersion.value = saved.version;
        lastSaved = body;
        if (notes.value === body) {
          clearDraft();
          setStatus("Saved at " + new Date(saved.saved_at).toLocaleTimeString(), "saved");
        } else {
          writeDraft();
          scheduleSave();
        }
      });
    }).catch(function () {
      writeDraft();
      setStatus("Offline: your notes are kept in this browser and will be sent again.", "offline");
      setTimeout(function () { save(false); }, 5000);
    }).then(function () { saving = null; });
    return saving;
  }

  function scheduleSave() {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(function () { save(false); }, 800);
  }

  function flushNotes(keepalive) {
    clearTimeout(saveTimer);
    return save(keepalive);
  }

  function showConflict(current) {
    inConflict = true;
    writeDraft();
    document.getElementById("notes-theirs").textContent = current.body;
    conflictBox.hidden = false;
    conflictBox.dataset.version = current.version;
    conflictBox.dataset.body = current.body;
    setStatus("Not saved: choose a version below.", "offline");
  }

  if (notes) {
    notes.addEventListener("input", function () {
      writeDraft();
      setStatus("Unsaved changes", "unsaved");
      scheduleSave();
    });
    notesForm.addEventListener("submit", function (event) {
      event.preventDefault();
      flushNotes(false);
    });
    document.getElementById("notes-keep-mine").addEventListener("click", function () {
      notesVersion.value = conflictBox.dataset.version;
      inConflict = false;
      conflictBox.hidden = true;
      lastSaved = null;
      save(false);
    });
    document.getElementById("notes-use-theirs").addEventListener("click", function () {
      notes.value = conflictBox.dataset.body;
      notesVersion.value = conflictBox.dataset.version;
      lastSaved = notes.value;
      inConflict = false;
      conflictBox.hidden = true;
      clearDraft();
      setStatus("Saved", "saved");
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") flushNotes(true);
    });
    window.addEventListener("pagehide", function () { flushNotes(true); });
    window.addEventListener("online", function () { save(false); });

    // A draft left by a dropped connection or a closed tab is sent again.
    var draft = readDraft();
    if (draft && draft.body !== notes.value) {
      var serverVersion = parseInt(notesVersion.value, 10) || 0;
      if (draft.base === serverVersion) {
        notes.value = draft.body;
        setStatus("Restored unsaved notes; saving…", "unsaved");
        save(false);
      } else {
        var theirs = notes.value;
        notes.value = draft.body;
        showConflict({ body: theirs, version: serverVersion });
      }
    } else if (draft) {
      clearDraft();
    }
  }
})();

// The code panel's test runs. The candidate's "Run tests" runs the current
// question's tests in a Web Worker (python-runner.js: Pyodide, a time limit,
// never the server), shows every case, and reports the run to the round,
// which keeps it and sends it live to the interviewer. Both sides draw a run
// with renderRun, from the page's last run after a reload too.

// What one stored case keeps of each text; the candidate sees it all now.
const STORED_FIELD_CHARS = 4000;

const panel = document.getElementById("runner");

export function setUpCandidateRuns({ getCode, getLanguage, saveFirst, getVersion }) {
  if (!panel) return;
  const button = document.getElementById("run-tests");
  const status = document.getElementById("run-status");
  const urls = JSON.parse(panel.dataset.urls);
  const suites = JSON.parse(panel.dataset.suites || "{}");
  let runner = null;
  let loaded = false;

  showLast();
  button.hidden = false;
  const refreshButton = () => {
    const python = getLanguage() === "python";
    button.disabled = !python || !suite();
    button.title = python ? "" : "C++ is edit-only: it cannot be run here.";
  };
  refreshButton();
  document.addEventListener("mockloop:language", refreshButton);
  document.addEventListener("mockloop:timer", (event) => {
    if (event.detail && event.detail.current_question) {
      panel.dataset.current = event.detail.current_question;
      refreshButton();
    }
  });

  function suite() {
    return suites[panel.dataset.current] || null;
  }

  button.addEventListener("click", async () => {
    const current = suite();
    if (!current || button.getAttribute("aria-busy") === "true") return;
    button.setAttribute("aria-busy", "true");
    button.disabled = true;
    status.textContent = loaded ? "Running the tests…" : "Loading Python (the first run takes a few seconds)…";
    try {
      await saveFirst();
      if (!runner) {
        const { createPythonRunner } = await import(urls.runner);
        runner = createPythonRunner({ pyodideBaseUrl: urls.pyodide, runnerUrl: urls.harness, workerUrl: urls.worker });
      }
      const position = Number(panel.dataset.current);
      const result = await runner.run({
        code: getCode(),
        setup: current.setup || "",
        cases: current.tests,
        timeoutMs: Number(panel.dataset.timeLimitMs),
      });
      loaded = result.status !== "crashed" || loaded;
      const run = {
        outcome: { ok: "completed", timeout: "timed_out" }[result.status] || "crashed",
        duration_ms: Math.max(0, Math.round(result.ms)),
        message: result.message || "",
        results: result.results,
        total: current.tests.length,
        ran_at: new Date().toISOString(),
      };
      renderRun(run);
      status.textContent = `${summary(run)} Saving the run…`;
      status.textContent = `${summary(run)} ${await record(position, run, getVersion())}`;
    } catch (error) {
      status.textContent = `The tests could not run: ${error.message}`;
    } finally {
      button.removeAttribute("aria-busy");
      refreshButton();
    }
  });
}

export function setUpInterviewerRuns() {
  if (!panel) return;
  showLast();
  let shown = panel.dataset.lastRun ? JSON.parse(panel.dataset.lastRun).ran_at : null;
  document.addEventListener("mockloop:run", (event) => {
    const run = event.detail;
    if (!run || run.ran_at === shown) return;
    shown = run.ran_at;
    renderRun(run);
    document.getElementById("run-status").textContent = `The candidate ran the tests: ${summary(run)}`;
  });
}

function showLast() {
  if (panel.dataset.lastRun) renderRun(JSON.parse(panel.dataset.lastRun), { restored: true });
}

async function record(position, run, codeVersion) {
  const trim = (text) =>
    typeof text === "string" && text.length > STORED_FIELD_CHARS
      ? `${text.slice(0, STORED_FIELD_CHARS)}[trimmed]`
      : text;
  const results = run.results.map((item) => ({
    name: trim(item.name),
    call: trim(item.call),
    passed: Boolean(item.passed),
    expected: trim(item.expected),
    got: trim(item.got),
    stdout: trim(item.stdout),
    error: trim(item.error),
  }));
  try {
    const response = await fetch(`/rounds/${panel.dataset.round}/runs`, {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({
        question_position: position,
        outcome: run.outcome,
        code_version: codeVersion,
        duration_ms: run.duration_ms,
        message: run.message.slice(0, 500),
        results,
      }),
    });
    if (response.ok) return "The run is saved with the round.";
    const answer = await response.json().catch(() => ({}));
    return `This run was not saved: ${answer.error || `the server answered ${response.status}`}.`;
  } catch {
    return "This run was not saved: the server could not be reached.";
  }
}

function summary(run) {
  if (run.outcome === "timed_out" || run.outcome === "crashed") return run.message || "The run did not finish.";
  const passed = run.results.filter((item) => item.passed).length;
  const total = run.total ?? run.results.length;
  const all = passed === total ? "All tests passed." : `${passed} of ${total} tests passed.`;
  return `${all} (${run.duration_ms} ms)`;
}

// Draws a run into #run-results: a summary line, then one entry per case,
// the failures open. Every text goes in as text, never as HTML.
export function renderRun(run, { restored = false } = {}) {
  const box = document.getElementById("run-results");
  if (!box) return;
  const heading = document.createElement("p");
  heading.className = "run-summary";
  const when = new Date(run.ran_at).toLocaleTimeString();
  heading.textContent = `${restored ? "Last run" : "Run"} at ${when}: ${summary(run)}`;
  const list = document.createElement("ol");
  list.className = "case-list";
  for (const item of run.results) list.append(caseEntry(item));
  box.replaceChildren(heading, ...(run.results.length ? [list] : []));
  box.dataset.outcome = run.outcome;
}

function caseEntry(item) {
  const entry = document.createElement("li");
  entry.className = item.passed ? "case case-pass" : "case case-fail";
  const details = document.createElement("details");
  details.open = !item.passed;
  const title = document.createElement("summary");
  title.textContent = `${item.passed ? "Passed" : "Failed"}: ${item.name}`;
  details.append(title);
  const facts = document.createElement("dl");
  const add = (label, text, block) => {
    if (text === null || text === undefined || text === "") return;
    const term = document.createElement("dt");
    term.textContent = label;
    const value = document.createElement("dd");
    const body = document.createElement(block ? "pre" : "code");
    // A long line scrolls sideways; a keyboard user must be able to reach it.
    if (block) body.tabIndex = 0;
    body.textContent = text;
    value.append(body);
    facts.append(term, value);
  };
  add("Call", item.call, false);
  add("Expected", item.expected, false);
  add("Got", item.got, false);
  add("Output", item.stdout, true);
  add("Error", item.error, true);
  details.append(facts);
  entry.append(details);
  return entry;
}

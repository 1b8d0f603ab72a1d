//! Module worker that runs a candidate's Python against a question's test
//! cases with Pyodide, so nothing the candidate writes runs on the server or on
//! the page's thread. Driven by python-runner.js, which owns the time limit: it
//! terminates this worker to stop code that does not finish.
//!
//! Messages in:  { type: "init", pyodideBaseUrl, runnerUrl }  (first, once)
//!               { type: "run", id, code, setup, casesJson }
//! Messages out: { type: "ready" } | { type: "failed", message }  (after init)
//!               { type: "started", id }  (the case run begins; the clock starts)
//!               { type: "result", id, resultsJson, ms } | { type: "error", id, message }

let runCases = null;

async function init({ pyodideBaseUrl, runnerUrl }) {
  // Both URLs arrive absolute and same-origin; every file comes from them.
  const { loadPyodide } = await import(new URL("pyodide.mjs", pyodideBaseUrl).href);
  const pyodide = await loadPyodide({
    indexURL: pyodideBaseUrl,
    // Without it Pyodide would look for packages on its CDN.
    packageBaseUrl: pyodideBaseUrl,
    // The harness captures each case's output; anything else is dropped
    // rather than logged to the console.
    stdout: () => {},
    stderr: () => {},
  });
  const response = await fetch(runnerUrl);
  if (!response.ok) throw new Error(`could not load the test harness (HTTP ${response.status})`);
  // Imported as a module of its own, so the candidate's code (run by the
  // harness in a fresh namespace) cannot replace it.
  pyodide.FS.mkdirTree("/mockloop");
  pyodide.FS.writeFile("/mockloop/mockloop_runner.py", await response.text());
  pyodide.runPython("import sys; sys.path.insert(0, '/mockloop')");
  runCases = pyodide.pyimport("mockloop_runner").run_cases;
}

self.onmessage = async ({ data }) => {
  if (data.type === "init") {
    try {
      await init(data);
      self.postMessage({ type: "ready" });
    } catch (error) {
      self.postMessage({ type: "failed", message: String(error?.message ?? error) });
    }
  } else if (data.type === "run") {
    self.postMessage({ type: "started", id: data.id });
    const started = performance.now();
    try {
      const resultsJson = runCases(data.code, data.setup, data.casesJson);
      self.postMessage({ type: "result", id: data.id, resultsJson, ms: performance.now() - started });
    } catch (error) {
      self.postMessage({ type: "error", id: data.id, message: String(error?.message ?? error) });
    }
  }
};

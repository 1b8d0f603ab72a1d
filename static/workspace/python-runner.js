//! Runs a candidate's Python against a question's test cases in a Web Worker
//! (python-worker.js) with the vendored Pyodide, and stops it when it runs
//! too long: terminating the worker is the only way to end an infinite loop,
//! so a timeout answers "timeout" and starts a fresh worker for the next run.
//!
//!   const runner = createPythonRunner({
//!     pyodideBaseUrl: "/static/vendor/<hash>/pyodide/",
//!     runnerUrl: "/static/…/runner.py",
//!     workerUrl: "/static/…/python-worker.js",  // optional, see below
//!   });
//!   await runner.warm();  // optional: load Python before the first run
//!   const { status, results, ms, message } = await runner.run({ code, setup, cases, timeoutMs: 5000 });
//!
//! `cases` is the list runner.py's run_cases takes ({ name, call, expected,
//! tolerance }); `results` is its parsed answer when status is "ok", else [].
//! `ms` is the time the cases ran (Python's start-up is not counted, and the
//! time limit starts only once Python is loaded). Runs queue one at a time.
//! `workerUrl` defaults to python-worker.js beside this file; pass it when the
//! server versions URLs (e.g. "?v=<hash>"), which a relative URL would drop.
//! Every URL must be same-origin: the worker fetches nothing else.

const LOAD_TIMEOUT_MS = 120_000;

export function createPythonRunner({
  pyodideBaseUrl,
  runnerUrl,
  workerUrl = new URL("./python-worker.js", import.meta.url),
}) {
  const init = {
    type: "init",
    pyodideBaseUrl: new URL(pyodideBaseUrl.endsWith("/") ? pyodideBaseUrl : `${pyodideBaseUrl}/`, document.baseURI).href,
    runnerUrl: new URL(runnerUrl, document.baseURI).href,
  };
  let session = null; // { worker, ready: Promise<void> }
  let lastId = 0;
  let queue = Promise.resolve();

  function start() {
    const worker = new Worker(workerUrl, { type: "module", name: "python-runner" });
    const ready = new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => {
        if (data.type === "ready") resolve();
        else if (data.type === "failed") reject(new Error(data.message));
      };
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(event.message || "the Python worker did not start"));
      };
    });
    ready.catch(() => {}); // reported to whoever waits on it
    worker.postMessage(init);
    session = { worker, ready };
    return session;
  }

  function stop() {
    session?.worker.terminate();
    session = null;
  }

  async function ready() {
    const current = session ?? start();
    let timer;
    try {
      await Promise.race([
        current.ready,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("Python took too long to load")), LOAD_TIMEOUT_MS);
        }),
      ]);
      return current;
    } catch (error) {
      if (session === current) stop(); // the next attempt starts afresh
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async function runOnce({ code, setup = "", cases, timeoutMs = 10_000 }) {
    let current;
    try {
      current = await ready();
    } catch (error) {
      return { status: "crashed", results: [], ms: 0, message: `Python could not start: ${error.message}` };
    }
    const id = ++lastId;
    const { worker } = current;
    return new Promise((resolve) => {
      let timer;
      let startedAt = performance.now();
      const finish = (result, { restart }) => {
        clearTimeout(timer);
        worker.onmessage = null;
        worker.onerror = null;
        if (restart) {
          stop();
          start(); // warm the next worker while the candidate reads the message
        }
        resolve(result);
      };
      const crashed = (message) =>
        finish(
          { status: "crashed", results: [], ms: Math.round(performance.now() - startedAt), message },
          { restart: true },
        );
      worker.onmessage = ({ data }) => {
        if (data.id !== id) return;
        if (data.type === "started") {
          startedAt = performance.now();
          timer = setTimeout(() => {
            const seconds = (timeoutMs / 1000).toLocaleString("en", { maximumFractionDigits: 1 });
            finish(
              {
                status: "timeout",
                results: [],
                ms: timeoutMs,
                message: `Stopped after ${seconds} s: the code was still running (an infinite loop?). Python was restarted.`,
              },
              { restart: true },
            );
          }, timeoutMs);
        } else if (data.type === "result") {
          let results;
          try {
            results = JSON.parse(data.resultsJson);
          } catch {
            crashed("The test harness answered something that is not JSON.");
            return;
          }
          finish({ status: "ok", results, ms: Math.round(data.ms), message: "" }, { restart: false });
        } else if (data.type === "error") {
          crashed(`Python stopped: ${data.message}`);
        }
      };
      worker.onerror = (event) => {
        event.preventDefault();
        crashed(`Python stopped: ${event.message || "the worker failed"}`);
      };
      worker.postMessage({ type: "run", id, code, setup, casesJson: JSON.stringify(cases) });
    });
  }

  return {
    async warm() {
      await ready();
    },
    run(request) {
      const result = queue.then(() => runOnce(request));
      queue = result.catch(() => {});
      return result;
    },
    destroy: stop,
  };
}

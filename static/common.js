// Shared by the page scripts: one way to post a form from script, and the
// clock's text. Loaded (deferred) before them.
(function () {
  "use strict";

  // Posts `data` (a FormData, URLSearchParams or plain object) as a form, same
  // origin, asking for JSON; `keepalive` lets a save outlive the page.
  function postForm(url, data, keepalive) {
    return fetch(url, {
      method: "POST",
      headers: { "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(data).toString(),
      credentials: "same-origin",
      keepalive: !!keepalive
    });
  }

  // The server's rules (domain::timer::format_clock, pinned by a test):
  // remaining time rounds up, overtime down and carries a "+".
  function formatClock(ms) {
    var over = ms < 0;
    var seconds = over ? Math.floor(-ms / 1000) : Math.ceil(ms / 1000);
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var text = h > 0 ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
    return (over ? "+" : "") + text;
  }
  function pad(n) { return n < 10 ? "0" + n : String(n); }

  window.mockloop = { postForm: postForm, formatClock: formatClock };
})();

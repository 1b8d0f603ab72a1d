// The header's unread-notice count, kept current from the server's notice
// stream (GET /notices/events sends the count now and after every change).
(function () {
  "use strict";
  var link = document.getElementById("nav-notices");
  var count = document.getElementById("notice-count");
  if (!link || !count || typeof EventSource === "undefined") return;
  var source = new EventSource("/notices/events");
  source.addEventListener("notices", function (event) {
    var unread = parseInt(event.data, 10);
    if (isNaN(unread)) return;
    count.textContent = String(unread);
    count.hidden = unread === 0;
    link.setAttribute("aria-label", unread === 0 ? "Notices" : "Notices, " + unread + " unread");
  });
  window.addEventListener("pagehide", function () { source.close(); });
})();

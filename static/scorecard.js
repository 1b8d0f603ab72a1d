// Scorecard form: drafts save themselves shortly after each change.
(function () {
  "use strict";
  var form = document.getElementById("scorecard-form");
  if (!form || form.dataset.status !== "draft") return;
  var status = document.getElementById("scorecard-status");
  var timer = null;

  function save() {
    var data = new URLSearchParams(new FormData(form));
    data.set("intent", "save");
    status.textContent = "Saving draft…";
    window.mockloop.postForm(form.getAttribute("action"), data).then(function (response) {
      status.textContent = response.ok ? "Draft saved at " + new Date().toLocaleTimeString() : "Draft not saved (" + response.status + ")";
    }).catch(function () {
      status.textContent = "Offline: draft not saved yet; it will be tried again.";
      schedule();
    });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(save, 1200);
  }

  form.addEventListener("input", function () {
    status.textContent = "Unsaved changes";
    schedule();
  });
  form.addEventListener("change", schedule);
})();

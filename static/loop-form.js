// New-loop form: preselect the browser's time zone on a fresh form.
(function () {
  "use strict";
  var select = document.getElementById("time_zone");
  if (!select || select.dataset.detectZone !== "yes") return;
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  for (var i = 0; i < select.options.length; i++) {
    if (select.options[i].value === zone) { select.selectedIndex = i; return; }
  }
})();

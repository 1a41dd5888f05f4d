// Small enhancements; every page works without them.
(function () {
  "use strict";
  // Every htmx request carries the CSRF token (Flask-WTF checks the X-CSRFToken header).
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.documentElement.classList.add("js");
    // The language switcher submits itself when JavaScript runs; its button remains without it.
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  });
})();

// Small enhancements; every page works without them.
(function () {
  "use strict";
  // Every htmx request carries the CSRF token (Flask-WTF checks the X-CSRFToken header).
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
  });

  // Dialogs: a link with hx-target="#dialog-body" loads a page's "dialog" block into the page's one
  // <dialog>; it opens as a modal, focus moves to its heading, and back to the opener when it closes.
  var opener = null;
  function dialogParts() {
    var dialog = document.getElementById("dialog");
    return dialog ? { dialog: dialog, body: document.getElementById("dialog-body") } : null;
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var parts = dialogParts();
    if (parts && event.detail.target === parts.body && !parts.dialog.open) { opener = event.detail.elt; }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var parts = dialogParts();
    if (!parts || event.detail.target !== parts.body) { return; }
    if (!parts.dialog.open) { parts.dialog.showModal(); }
    // Where the new content has an element with autofocus (a refused form's error summary, which says
    // what was refused and links to each field), htmx focuses it once the content settles, as the browser
    // does on the page: focusing it here as well took the focus back from a link the person had already
    // moved to. Else the first field in error, or the dialog's heading.
    if (!parts.body.querySelector("[autofocus]")) {
      var focus = parts.body.querySelector(".field-error input, .field-error select, #dialog-title");
      if (focus) { focus.focus(); }
    }
    initDebtorPicker(parts.body);
    initWindowPresets(parts.body);
    markScrollAreas(parts.body);
  });
  // A refused request (400: an expired form, unusable text; 403, 404, 405, 413, 429) answers with the
  // server's message, as the page without JavaScript shows it: show it where the answer was going instead
  // of doing nothing. So does a server error (500), when the answer is the portal's own message — never
  // another server's error page (a proxy's 502). A message into the dialog goes above its form, so that
  // what was filled in stays.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail, status = detail.xhr.status;
    if (status < 400 || !detail.serverResponse) { return; }
    if (status >= 500 && !/data-error-message/.test(detail.serverResponse)) { return; }
    detail.shouldSwap = true;
    detail.isError = false;
    var parts = dialogParts();
    if (parts && detail.target === parts.body && /data-error-message/.test(detail.serverResponse)
        && parts.body.querySelector("form")) {
      parts.body.querySelectorAll("[data-error-message]").forEach(function (old) { old.remove(); });
      detail.swapOverride = "afterbegin";
    }
  });
  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-dialog]");
    var parts = dialogParts();
    if (closer && parts && parts.dialog.open && parts.dialog.contains(closer)) {
      event.preventDefault();
      parts.dialog.close();
    }
  });
  // A dialog whose form says data-save-on-close (Prepared data) keeps what was changed in it when it is
  // closed with Escape, as its Close button does: Escape presses that button when something changed.
  // (The Close button, not a plain submit: htmx would send the last button focused, e.g. Export.)
  function unsavedCloseButton(parts) {
    var form = parts.body.querySelector("form[data-save-on-close]");
    if (!form) { return null; }
    var changed = Array.prototype.some.call(form.querySelectorAll("input[type=checkbox]"), function (box) {
      return box.checked !== box.defaultChecked;
    });
    return changed ? form.querySelector("button[value=close]") : null;
  }
  document.addEventListener("cancel", function (event) {
    var parts = dialogParts();
    if (!parts || event.target !== parts.dialog) { return; }
    var button = unsavedCloseButton(parts);
    if (button && event.cancelable) {
      event.preventDefault();   // stays open while it saves; the answer opens the run page (or Scenarios)
      button.click();
    }
  }, true);
  document.addEventListener("close", function (event) {
    var parts = dialogParts();
    if (parts && event.target === parts.dialog) {
      var button = unsavedCloseButton(parts);
      if (button) { button.click(); return; }   // Escape that could not be held back: save all the same
      parts.body.innerHTML = "";
      if (opener && document.body.contains(opener)) { opener.focus(); }
      opener = null;
    }
  }, true);

  // Debtor selection: a ticked search result moves to the selected list, so that a new search keeps it.
  function initDebtorPicker(root) {
    var selected = root.querySelector("#debtor-selected");
    var results = root.querySelector("#debtor-results");
    if (!selected || !results || results.dataset.ready) { return; }
    results.dataset.ready = "1";
    results.addEventListener("change", function (event) {
      var box = event.target;
      if (!box.matches("input[data-debtor]") || !box.checked) { return; }
      var empty = selected.querySelector(".muted");
      if (empty) { empty.remove(); }
      selected.appendChild(box.closest("li"));
      var scope = root.querySelector('input[name="debtor_scope"][value="selected"]');
      if (scope) { scope.checked = true; }
    });
    // Enter in the search field searches (the form's default button starts the export).
    var query = root.querySelector("#debtor_query");
    if (query && query.form && !query.form.querySelector('input[name="js"]')) {
      // Tells the server Enter was not meant for the search (this handler took that): also on the page
      // opened on its own, which posts without htmx.
      var marker = document.createElement("input");
      marker.type = "hidden"; marker.name = "js"; marker.value = "1";
      query.form.appendChild(marker);
    }
    if (query) {
      query.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { event.preventDefault(); htmx.trigger(query, "search"); }
      });
    }
  }

  // Time window: the custom dates are only asked for when "Custom dates" is chosen.
  function initWindowPresets(root) {
    var custom = root.querySelector("[data-custom-window]");
    if (!custom) { return; }
    var radios = root.querySelectorAll("input[data-window-preset]");
    function sync() {
      var chosen = root.querySelector("input[data-window-preset]:checked");
      custom.hidden = !(chosen && chosen.value === "custom") && !custom.querySelector(".field-error");
    }
    radios.forEach(function (radio) { radio.addEventListener("change", sync); });
    sync();
  }

  // A table wider (or taller) than its box scrolls: keyboard users must be able to reach it to scroll it.
  function markScrollAreas(root) {
    (root || document).querySelectorAll(".table-wrap").forEach(function (wrap) {
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1 || wrap.scrollHeight > wrap.clientHeight + 1;
      if (scrolls && !wrap.hasAttribute("tabindex")) {
        wrap.setAttribute("tabindex", "0");
        wrap.dataset.madeFocusable = "1";
      } else if (!scrolls && wrap.dataset.madeFocusable) {
        wrap.removeAttribute("tabindex");
        delete wrap.dataset.madeFocusable;
      }
    });
  }
  document.addEventListener("htmx:afterSettle", function () { markScrollAreas(document); });

  // Column order in the profile form: Up and Down move the row at once (without JavaScript they submit
  // the form, which comes back with the row moved). The row order is the order of the "order" inputs.
  function refreshMoveButtons(list) {
    var rows = list.querySelectorAll("tr");
    rows.forEach(function (row, index) {
      var up = row.querySelector('[data-move="up"]'), down = row.querySelector('[data-move="down"]');
      if (up) { up.disabled = index === 0; }
      if (down) { down.disabled = index === rows.length - 1; }
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-move]");
    var list = button && button.closest("[data-column-list]");
    if (!list) { return; }
    event.preventDefault();
    var row = button.closest("tr");
    var up = button.dataset.move === "up";
    var other = up ? row.previousElementSibling : row.nextElementSibling;
    if (!other) { return; }
    list.insertBefore(up ? row : other, up ? other : row);
    refreshMoveButtons(list);
    if (button.disabled) {  // moved to the end: keep the focus on this row
      var sibling = row.querySelector('[data-move="' + (up ? "down" : "up") + '"]');
      if (sibling) { sibling.focus(); }
    } else {
      button.focus();
    }
  });
  window.addEventListener("resize", function () { markScrollAreas(document); });

  // Run page: the panel is swapped every second while the run works. Only a change of its status or
  // phase (the panel's data-announce) goes into the small live region, not every progress tick.
  function announceRun(first) {
    var live = document.getElementById("run-live"), panel = document.getElementById("run-panel");
    if (!live || !panel) { return; }
    var text = panel.getAttribute("data-announce") || "";
    if (first) { live.setAttribute("data-last", text); return; }
    if (text !== live.getAttribute("data-last")) {
      live.setAttribute("data-last", text);
      live.textContent = text;
    }
  }
  document.addEventListener("htmx:afterSettle", function () { announceRun(false); });

  document.addEventListener("DOMContentLoaded", function () {
    markScrollAreas(document);
    document.documentElement.classList.add("js");
    // The language switcher submits itself when JavaScript runs (its button remains without it): at once
    // for a choice made with the mouse, but after arrow keys only on Enter or on leaving the select —
    // an arrow key changes a closed select at once, and a keyboard user must be able to go past a language.
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      var initial = select.value, byKey = false;
      function submit() { if (select.value !== initial) { initial = select.value; select.form.submit(); } }
      select.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { event.preventDefault(); submit(); } else if (event.key !== "Tab") { byKey = true; }
      });
      select.addEventListener("mousedown", function () { byKey = false; });
      select.addEventListener("change", function () { if (!byKey) { submit(); } });
      select.addEventListener("blur", function () { if (byKey) { byKey = false; submit(); } });
    });
    initDebtorPicker(document);
    initWindowPresets(document);
    announceRun(true);
  });
})();

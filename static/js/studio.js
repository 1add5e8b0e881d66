// Classifier Studio keyboard shortcuts and small behaviours, from a static file so the
// strict CSP can forbid inline scripts and eval. htmx trigger filters need eval, so keys are
// turned into custom events here instead: an element with hx-trigger="key-m from:body"
// reacts to "m". Elements with data-key="x" are clicked by the key x.
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.closest) return false;
    return !!target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']");
  }

  function showHelp() {
    var dialog = document.getElementById("shortcuts-help");
    if (dialog && !dialog.open) dialog.showModal();
  }

  var pendingG = false;

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    if (document.querySelector("dialog[open]") && event.key !== "Escape") return;
    var key = event.key;

    if (pendingG) {
      pendingG = false;
      if (key === "p") { window.location.href = "/projects/"; event.preventDefault(); return; }
    }
    if (key === "?") { showHelp(); event.preventDefault(); return; }
    if (key === "g") { pendingG = true; window.setTimeout(function () { pendingG = false; }, 1000); return; }

    var target = document.querySelector('[data-key="' + CSS.escape(key) + '"]');
    if (target && !target.disabled) {
      event.preventDefault();
      target.click();
      return;
    }
    // Let htmx elements listen for keys: hx-trigger="key-Enter from:body".
    var handled = !document.body.dispatchEvent(new CustomEvent("key-" + key, { bubbles: true, cancelable: true }));
    if (handled) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var trigger = event.target.closest && event.target.closest("[data-show-shortcuts]");
    if (trigger) { showHelp(); }
  });

  // Plain (non-htmx) forms that need a confirmation: <form data-confirm="...">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute && form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
})();

// Uploads: drag-and-drop onto [data-dropzone], the chosen files listed, and the browser's
// upload progress shown in [data-upload-progress] (htmx's xhr progress events).
(function () {
  "use strict";

  function listFiles(zone, input) {
    var list = zone.querySelector("[data-dropzone-list]");
    if (!list) return;
    var n = input.files.length;
    if (!n) { list.textContent = "No files chosen."; return; }
    var names = Array.prototype.slice.call(input.files, 0, 5).map(function (f) { return f.name; });
    list.textContent = n + (n === 1 ? " file: " : " files: ") + names.join(", ") + (n > 5 ? ", …" : "");
  }

  document.addEventListener("change", function (event) {
    var zone = event.target.closest && event.target.closest("[data-dropzone]");
    if (zone && event.target.type === "file") listFiles(zone, event.target);
  });
  document.addEventListener("dragover", function (event) {
    var zone = event.target.closest && event.target.closest("[data-dropzone]");
    if (!zone) return;
    event.preventDefault();
    zone.classList.add("dragover");
  });
  document.addEventListener("dragleave", function (event) {
    var zone = event.target.closest && event.target.closest("[data-dropzone]");
    if (zone) zone.classList.remove("dragover");
  });
  document.addEventListener("drop", function (event) {
    var zone = event.target.closest && event.target.closest("[data-dropzone]");
    if (!zone) return;
    event.preventDefault();
    zone.classList.remove("dragover");
    var input = zone.querySelector("input[type=file]");
    if (input && event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      listFiles(zone, input);
    }
  });
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest && event.target.closest("[data-upload-form]");
    var bar = form && form.querySelector("[data-upload-progress]");
    if (bar && event.detail.lengthComputable) {
      bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
    }
  });
})();

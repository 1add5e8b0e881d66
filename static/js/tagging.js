// Tagging studio behaviours, from a static file (strict CSP: no inline scripts, no eval).
// studio.js turns keys into clicks on [data-key] elements; this file adds what the studio
// needs on top: a second key per button ([data-key-alt], e.g. a class's own letter or
// Backspace for undo), multi-label toggles, the skip reason box, the guidelines dialog, and
// keeping the keyboard focus on the card after every htmx swap.
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.closest) return false;
    return !!target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']");
  }

  function card() {
    return document.getElementById("card");
  }

  function focusCard() {
    var el = card();
    if (el && !document.querySelector("dialog[open]")) el.focus({ preventScroll: true });
  }

  function openSkip() {
    var form = document.getElementById("skip-form");
    if (!form) return;
    form.hidden = false;
    var input = form.querySelector("[data-skip-reason]");
    if (input) input.focus();
  }

  function closeSkip() {
    var form = document.getElementById("skip-form");
    if (form) form.hidden = true;
    focusCard();
  }

  function toggle(button) {
    var on = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", on ? "true" : "false");
    var id = button.getAttribute("data-toggle-class");
    var input = document.querySelector('[data-class-input="' + CSS.escape(id) + '"]');
    if (input) input.disabled = !on;
  }

  // Runs after studio.js's listener (this file loads later): a key studio.js used is
  // defaultPrevented here, so one key press never does two things.
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) {
      if (event.key === "Escape" && event.target.matches("[data-skip-reason]")) {
        event.preventDefault();
        closeSkip();
      }
      return;
    }
    if (event.defaultPrevented || document.querySelector("dialog[open]")) return;
    var target = document.querySelector('#card [data-key-alt="' + CSS.escape(event.key) + '"]');
    if (target && !target.disabled) {
      event.preventDefault();
      target.click();
    }
  });

  document.addEventListener("click", function (event) {
    if (!event.target.closest) return;
    var button = event.target.closest("[data-toggle-class]");
    if (button) { toggle(button); return; }
    if (event.target.closest("[data-skip-open]")) { openSkip(); return; }
    if (event.target.closest("[data-skip-cancel]")) { closeSkip(); return; }
    var opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-open-dialog"));
      if (dialog && !dialog.open) dialog.showModal();
    }
  });

  // A closed dialog (guidelines, shortcuts) hands the keys back to the card.
  document.addEventListener("close", function (event) {
    if (event.target.tagName === "DIALOG") focusCard();
  }, true);

  // After each swap: a new document starts at the top, and the card has the focus (the
  // element that had it was just replaced, so the keys would otherwise go to <body>).
  var shown = null;
  document.addEventListener("htmx:afterSettle", function () {
    var el = card();
    if (!el) return;
    var doc = el.getAttribute("data-document");
    if (doc !== shown) {
      shown = doc;
      window.scrollTo(0, 0);
    }
    var active = document.activeElement;
    if (!active || active === document.body || !document.body.contains(active) || active.closest("#card")) {
      focusCard();
    }
  });

  function start() {
    var el = card();
    if (!el) return;
    shown = el.getAttribute("data-document");
    focusCard();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

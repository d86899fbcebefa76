// The agent workspace: keyboard shortcuts, bulk selection, the composer and collision warnings.
// Vanilla JS, no build step. Everything here is an enhancement: the pages work without it.
(function () {
  "use strict";

  function typing(target) {
    if (!(target instanceof HTMLElement)) return false;
    var tag = target.tagName;
    return target.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  // --- View lists: select-all, selected count ------------------------------------------------
  function rememberList() {
    var form = document.querySelector("[data-view-list]");
    if (form) updateSelection(form);
  }

  function updateSelection(form) {
    var boxes = form.querySelectorAll("input[name=ticket_ids]");
    var checked = 0;
    boxes.forEach(function (box) {
      var row = box.closest("tr");
      if (row) row.classList.toggle("is-selected", box.checked);
      if (box.checked) checked += 1;
    });
    var count = form.querySelector("[data-selected-count]");
    if (count) count.textContent = checked ? "(" + checked + ")" : "";
    form.classList.toggle("has-selection", checked > 0);
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLInputElement)) return;
    var form = target.closest("[data-view-list]");
    if (form && target.hasAttribute("data-select-all")) {
      form.querySelectorAll("input[name=ticket_ids]").forEach(function (box) { box.checked = target.checked; });
    }
    if (form) updateSelection(form);
    if (target.hasAttribute("data-mode")) setMode(target.value, false);
  });

  // --- Ticket page: composer mode, submit label, warnings --------------------------------------
  function setMode(mode, focus) {
    var composer = document.querySelector("[data-composer]");
    if (!composer) return;
    var radio = composer.querySelector("input[data-mode][value=" + mode + "]");
    if (!radio) return;  // a light agent's composer has one mode: internal notes
    radio.checked = true;
    composer.classList.toggle("composer--note", mode === "internal");
    var body = composer.querySelector("[data-composer-body]");
    if (body) {
      body.placeholder = body.getAttribute("data-placeholder-" + mode) || body.placeholder;
      if (focus) body.focus();
    }
  }

  function updateSubmitLabel() {
    var select = document.querySelector("#ticket-form select[name=status]");
    var button = document.querySelector("[data-submit-main]");
    if (!select || !button) return;
    var option = select.options[select.selectedIndex];
    if (option) button.textContent = button.getAttribute("data-label-template").replace("__STATUS__", option.text);
  }
  document.addEventListener("change", function (event) {
    if (event.target instanceof HTMLSelectElement && event.target.name === "status" && event.target.closest("#ticket-form")) {
      updateSubmitLabel();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-ticket-form")) return;
    var submitter = event.submitter;
    if (submitter && submitter.value === "macro") return;
    var presence = document.getElementById("presence");
    var fresh = presence ? parseInt(presence.getAttribute("data-new-comments") || "0", 10) : 0;
    if (fresh > 0 && !window.confirm(form.getAttribute("data-confirm-new") || "A new comment arrived since you opened this ticket. Send anyway?")) {
      event.preventDefault();
    }
  });

  // --- New ticket: pick a suggested requester ---------------------------------------------------
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-fill-email]") : null;
    if (!button) return;
    var email = document.querySelector("input[name=requester_email]");
    var name = document.querySelector("input[name=requester_name]");
    if (email) email.value = button.getAttribute("data-fill-email");
    if (name) name.value = button.getAttribute("data-fill-name");
    var box = document.getElementById("requester-suggestions");
    if (box) box.innerHTML = "";
  });

  // --- Keyboard shortcuts: r reply, n note, j/k next/previous ticket in the view ----------------
  // The ticket page links its neighbours in the view (the server finds them, across pages).
  function neighbour(step) {
    var link = document.querySelector("a[data-neighbour='" + step + "']");
    if (link) location.href = link.href;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var composer = document.querySelector("[data-composer]");
    if (event.key === "r" && composer) { event.preventDefault(); setMode("public", true); }
    else if (event.key === "n" && composer) { event.preventDefault(); setMode("internal", true); }
    else if (event.key === "j") { neighbour(1); }
    else if (event.key === "k") { neighbour(-1); }
  });

  function init() { rememberList(); updateSubmitLabel(); }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", rememberList);
})();

// Voice QA review pages: keyboard shortcuts and small conveniences. Pages work without it.
(function () {
  "use strict";

  function typing(target) {
    if (!target) return false;
    var tag = target.tagName;
    return target.isContentEditable || tag === "TEXTAREA" || tag === "SELECT" ||
      (tag === "INPUT" && !/^(radio|checkbox|button|submit)$/.test(target.type));
  }

  function listRows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-list] [data-row]"));
  }

  function selectRow(rows, index) {
    if (!rows.length) return;
    index = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row) { row.classList.remove("selected"); row.removeAttribute("aria-selected"); });
    rows[index].classList.add("selected");
    rows[index].setAttribute("aria-selected", "true");
    rows[index].scrollIntoView({ block: "nearest" });
    var link = rows[index].querySelector("a.row-link");
    if (link) link.focus({ preventScroll: true });
  }

  function selectedIndex(rows) {
    for (var i = 0; i < rows.length; i++) if (rows[i].classList.contains("selected")) return i;
    return -1;
  }

  function go(selector) {
    var link = document.querySelector(selector);
    if (link && link.href) { window.location.href = link.href; return true; }
    return false;
  }

  function focusHotkey(key) {
    var field = document.querySelector('[data-hotkey="' + key + '"]');
    if (!field) return false;
    field.focus();
    if (field.select) field.select();
    return true;
  }

  function pickVerdict(index) {
    var radios = document.querySelectorAll("[data-hotkey-verdict]");
    if (!radios[index]) return false;
    radios[index].checked = true;
    radios[index].focus();
    radios[index].dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  }

  function shortcuts() { return document.getElementById("shortcuts"); }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.metaKey) return;
    var target = event.target;

    // Ctrl+Enter saves the evaluation from anywhere in the form.
    if (event.ctrlKey && event.key === "Enter") {
      var form = target.closest && target.closest("[data-evaluation-form]");
      if (form) {
        event.preventDefault();
        var primary = form.querySelector("[data-primary-submit]");
        if (primary) form.requestSubmit(primary); else form.requestSubmit();
      }
      return;
    }
    if (event.ctrlKey) return;
    if (event.key === "Escape" && typing(target)) { target.blur(); return; }
    if (typing(target)) return;

    var rows = listRows();
    var handled = true;
    switch (event.key) {
      case "j":
        if (rows.length) selectRow(rows, selectedIndex(rows) + 1);
        else handled = go('[data-nav="next"]');
        break;
      case "k":
        if (rows.length) selectRow(rows, selectedIndex(rows) < 0 ? 0 : selectedIndex(rows) - 1);
        else handled = go('[data-nav="prev"]');
        break;
      case "Enter":
      case "o":
        if (rows.length && selectedIndex(rows) >= 0 && !(event.key === "Enter" && target.tagName === "A")) {
          window.location.href = rows[selectedIndex(rows)].getAttribute("data-href");
        } else handled = false;
        break;
      case "/": handled = focusHotkey("/"); break;
      case "t": handled = focusHotkey("t"); break;
      case "u": handled = go('[data-hotkey="u"]'); break;
      case "e": {
        var checked = document.querySelector("[data-hotkey-verdict]:checked") ||
          document.querySelector("[data-hotkey-verdict]");
        if (checked) checked.focus(); else handled = false;
        break;
      }
      case "1": handled = pickVerdict(0); break;
      case "2": handled = pickVerdict(1); break;
      case "3": handled = pickVerdict(2); break;
      case "x": {
        var payloads = document.querySelectorAll("[data-payload]");
        var open = Array.prototype.some.call(payloads, function (d) { return !d.open; });
        payloads.forEach(function (d) { d.open = open; });
        handled = payloads.length > 0;
        break;
      }
      case "?": {
        var dialog = shortcuts();
        if (dialog && !dialog.open) dialog.showModal(); else handled = false;
        break;
      }
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest("[data-shortcuts-open]")) { var d = shortcuts(); if (d) d.showModal(); return; }
    if (target.closest("[data-shortcuts-close]")) { var c = shortcuts(); if (c) c.close(); return; }
    if (target.closest("[data-toggle-payloads]")) {
      var payloads = document.querySelectorAll("[data-payload]");
      var open = Array.prototype.some.call(payloads, function (d) { return !d.open; });
      payloads.forEach(function (d) { d.open = open; });
      return;
    }
    // A click anywhere on a list row opens it (the first cell holds the real link).
    var row = target.closest("[data-list] [data-row]");
    if (row && !target.closest("a, button, input, label")) {
      if (event.ctrlKey || event.metaKey) window.open(row.getAttribute("data-href"), "_blank");
      else window.location.href = row.getAttribute("data-href");
    }
    var copy = target.closest("[data-copy]");
    if (copy && navigator.clipboard) {
      navigator.clipboard.writeText(copy.textContent.trim()).then(function () {
        copy.setAttribute("title", "Copied");
      }, function () {});
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]")) event.target.form.submit();
  });
})();

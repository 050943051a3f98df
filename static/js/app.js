// Behaviour shared by every page (design system). Progressive: every page works without it.
// - data-confirm="Delete the Q3 target?" on a <form> or a submit button asks before submitting, for a plain
//   submit and an htmx one alike (the question is asked in the capture phase, before htmx sees the submit).
//   Elements that only send an htmx request (no form to fall back on) use htmx's own hx-confirm.
// - data-confirm-deletes="measure" on a form with a formset asks only when rows are ticked for deletion.
// - The "Menu" button folds the main navigation on a phone (aria-expanded kept in step; Escape closes it).
// - Open <details> menus (More, workspace switcher) close on Escape or a click elsewhere.
// - A table that scrolls sideways (a phone, or a zoomed laptop) becomes focusable, so the keyboard can scroll it.
(function () {
  "use strict";
  var doc = document;

  function confirmed(el) {
    var message = el && el.getAttribute("data-confirm");
    return !message || window.confirm(message);
  }

  function deletionsConfirmed(form) {
    var noun = form.getAttribute && form.getAttribute("data-confirm-deletes");
    if (!noun) return true;
    var ticked = form.querySelectorAll("input[type=checkbox][name$='-DELETE']:checked").length;
    return !ticked || window.confirm("Save and delete " + ticked + " " + noun + (ticked > 1 ? "s" : "") + "?");
  }

  // A submit button's question wins over its form's (a form may hold a harmless and a destructive button).
  doc.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var asker = submitter && submitter.hasAttribute("data-confirm") ? submitter : form;
    var asks = asker.hasAttribute && asker.hasAttribute("data-confirm");
    if ((asks && !confirmed(asker)) || (!asks && !deletionsConfirmed(form))) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  // A link that changes nothing on the server may still warn ("Leave without saving?").
  doc.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-confirm]");
    if (link && !confirmed(link)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  function setupNav() {
    var bar = doc.querySelector(".topbar");
    var toggle = bar && bar.querySelector(".nav-toggle");
    if (!toggle) return;
    toggle.hidden = false;
    function set(open) {
      bar.classList.toggle("nav-open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
    toggle.addEventListener("click", function () { set(toggle.getAttribute("aria-expanded") !== "true"); });
    bar.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && bar.classList.contains("nav-open")) {
        set(false);
        toggle.focus();
      }
    });
  }

  function closeMenus(except) {
    doc.querySelectorAll("details.more-nav[open], details.switcher[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }

  doc.addEventListener("click", function (event) {
    closeMenus(event.target.closest && event.target.closest("details.more-nav, details.switcher"));
  });
  doc.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = event.target.closest && event.target.closest("details[open].more-nav, details[open].switcher");
    if (open) {
      open.removeAttribute("open");
      open.querySelector("summary").focus();
    }
  });

  var SCROLLERS = "main table, .table-wrap, .table-scroll";

  function focusableWhenScrolling() {
    doc.querySelectorAll(SCROLLERS).forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("data-scroll-focus", "");
      } else if (!scrolls && box.hasAttribute("data-scroll-focus")) {
        box.removeAttribute("tabindex");
        box.removeAttribute("data-scroll-focus");
      }
    });
  }

  function setup() {
    setupNav();
    focusableWhenScrolling();
  }

  var resizing;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(focusableWhenScrolling, 150);
  });
  doc.addEventListener("htmx:afterSettle", focusableWhenScrolling);

  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", setup);
  else setup();
})();

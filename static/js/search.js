// Global search box (templates/search/_box.html). The form works without this file; it adds:
// - "/" (when not typing in a field) and Ctrl+K / Cmd+K focus the box; Escape closes the suggestions and leaves it;
// - the suggestions htmx swaps into #search-suggestions open under the box; ArrowDown/ArrowUp walk their links,
//   Escape comes back to the box, Enter follows a link (or, in the box, submits to the full results page).
(function () {
  "use strict";

  var input = document.getElementById("global-search");
  var list = document.getElementById("search-suggestions");
  var status = document.getElementById("search-status");
  if (!input || !list) {
    return;
  }
  var form = input.form;

  function isTypingIn(element) {
    if (!element || element === document.body) {
      return false;
    }
    var tag = element.tagName;
    return element.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  function links() {
    return Array.prototype.slice.call(list.querySelectorAll("a[href]"));
  }

  function setOpen(open) {
    list.hidden = !open;
    input.setAttribute("aria-expanded", open ? "true" : "false");
  }

  function focusBox(event) {
    event.preventDefault();
    input.focus();
    input.select();
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing) {
      return;
    }
    var key = event.key;
    if ((key === "k" || key === "K") && (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey) {
      focusBox(event); // also from inside a field: it is a chord, it types nothing
    } else if (key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !isTypingIn(document.activeElement)) {
      focusBox(event);
    }
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault(); // the browser would clear a search field: keep what was typed
      setOpen(false);
      input.blur();
    } else if (event.key === "ArrowDown" && !list.hidden && links().length) {
      event.preventDefault();
      links()[0].focus();
    }
  });

  // Coming back to the box from elsewhere shows the last suggestions again; coming back from them (Escape,
  // ArrowUp) does not.
  input.addEventListener("focus", function (event) {
    var fromList = event.relatedTarget && list.contains(event.relatedTarget);
    if (!fromList && list.innerHTML.trim() && input.value.trim()) {
      setOpen(true);
    }
  });

  list.addEventListener("keydown", function (event) {
    var all = links();
    var index = all.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && index > -1) {
      event.preventDefault();
      all[Math.min(index + 1, all.length - 1)].focus();
    } else if (event.key === "ArrowUp" && index > -1) {
      event.preventDefault();
      if (index === 0) {
        input.focus();
      } else {
        all[index - 1].focus();
      }
    } else if (event.key === "Escape") {
      event.preventDefault();
      setOpen(false);
      input.focus();
    }
  });

  // Suggestions swapped in by htmx: open when there is something to show, and say how many for screen readers.
  list.addEventListener("htmx:afterSwap", function () {
    var count = list.querySelectorAll(".search-hits a[href]").length;
    var hasContent = list.innerHTML.trim() !== "";
    setOpen(hasContent && document.activeElement === input);
    if (status) {
      status.textContent = count ? count + " suggestions: press the down arrow to browse them." : "";
    }
  });

  // Leaving the box (a click elsewhere, Tab past the last suggestion) closes the suggestions.
  document.addEventListener("click", function (event) {
    if (form && !form.contains(event.target)) {
      setOpen(false);
    }
  });
  if (form) {
    form.addEventListener("focusout", function (event) {
      if (!event.relatedTarget || !form.contains(event.relatedTarget)) {
        setOpen(false);
      }
    });
  }
})();

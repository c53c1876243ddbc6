// Red Vest's own script: small progressive enhancements only; every page works without it.
(function () {
  "use strict";
  // Buttons marked data-confirm ask before submitting (CSP forbids inline onclick handlers).
  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);
  // Elements marked data-print print the page.
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) {
      event.preventDefault();
      window.print();
    }
  });
  // A resend button marked data-countdown="<seconds>" waits that long before it can be pressed again.
  document.querySelectorAll("[data-countdown]").forEach(function (button) {
    var left = parseInt(button.getAttribute("data-countdown"), 10) || 0;
    var label = button.textContent;
    var template = button.getAttribute("data-countdown-text") || "{s}";
    function tick() {
      if (left <= 0) {
        button.disabled = false;
        button.textContent = label;
        return;
      }
      button.disabled = true;
      button.textContent = template.replace("{s}", String(left));
      left -= 1;
      window.setTimeout(tick, 1000);
    }
    tick();
  });
})();
// Forms sent back with errors (templates/_macros.html): the first invalid field gets the focus, so a screen reader
// reads it with its error; once a field is changed its old error no longer applies and is hidden.
(function () {
  "use strict";
  function focusFirstInvalid() {
    var first = document.querySelector("form [aria-invalid=true]");
    if (first && !document.querySelector("[autofocus]")) { first.focus(); }
  }
  function clearError(event) {
    var el = event.target;
    if (!el.getAttribute || el.getAttribute("aria-invalid") !== "true") { return; }
    el.removeAttribute("aria-invalid");
    var id = el.getAttribute("aria-describedby");
    var message = id && document.getElementById(id);
    if (message && message.classList.contains("field-error")) {
      message.classList.add("hidden");
      el.removeAttribute("aria-describedby");
    }
  }
  document.addEventListener("input", clearError);
  document.addEventListener("change", clearError);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusFirstInvalid);
  } else {
    focusFirstInvalid();
  }
})();

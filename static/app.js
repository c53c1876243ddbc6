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
})();

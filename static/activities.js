// Activity pages: a phone that wakes up shows the current code at once (htmx polling pauses in the background).
(function () {
  "use strict";
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible" || !window.htmx) { return; }
    var box = document.getElementById("qr-box");
    var url = box && box.getAttribute("hx-get");
    if (url) { window.htmx.ajax("GET", url, { target: box, swap: "outerHTML" }); }
  });
})();

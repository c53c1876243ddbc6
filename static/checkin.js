// Check-in pages: the position for a fenced activity, and the self-report of a refused scan.
(function () {
  "use strict";

  // A fenced activity's button sends the browser's position (the server keeps only inside/outside).
  function fillPosition(form) {
    if (!navigator.geolocation) { return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.querySelector("input[name=lat]").value = String(pos.coords.latitude);
      form.querySelector("input[name=lng]").value = String(pos.coords.longitude);
      form.querySelector("input[name=acc]").value = String(pos.coords.accuracy);
    }, function () { /* refused or unavailable: the check-in still works, marked unknown */ },
    { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  }

  // A refused scan is counted by the server: the GET never writes, so the page reports itself once.
  function reportRefusal(el) {
    var url = el.getAttribute("data-report-url");
    if (!url || !window.fetch) { return; }
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": el.getAttribute("data-csrf") || "" }
    }).catch(function () { /* counting is best effort; the person already has the message */ });
  }

  // A tapped button is disabled so a double tap sends one request (the server is safe either way).
  document.addEventListener("submit", function (event) {
    var form = event.target.closest(".scan-form");
    if (!form) { return; }
    var button = form.querySelector("button[type=submit]");
    if (button) { window.setTimeout(function () { button.disabled = true; button.setAttribute("aria-busy", "true"); }, 0); }
  });

  function init() {
    document.querySelectorAll(".scan-form[data-geo]").forEach(fillPosition);
    document.querySelectorAll("[data-report-url]").forEach(reportRefusal);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

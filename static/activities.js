// Activity pages: a phone that wakes up shows the current code at once (htmx polling pauses in the background).
(function () {
  "use strict";
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible" || !window.htmx) { return; }
    var box = document.getElementById("qr-box");
    var url = box && box.getAttribute("hx-get");
    if (url) { window.htmx.ajax("GET", url, { target: box, swap: "outerHTML" }); }
  });

  // The full-screen code (activities/screen.html): keep the screen awake while it shows, where the browser has
  // the Screen Wake Lock API. The browser drops the lock when the page is hidden, so it is asked for again
  // each time the page comes back; leaving the page lets it go.
  var screen = document.querySelector("[data-wake-lock]");
  if (!screen) { return; }
  var lock = null;
  var status = document.getElementById("wake-status");
  function show(on) {
    if (!status) { return; }
    status.hidden = false;
    status.textContent = status.getAttribute(on ? "data-on" : "data-off");
  }
  function acquire() {
    if (!("wakeLock" in navigator)) { show(false); return; }
    if (document.visibilityState !== "visible" || (lock && !lock.released)) { return; }
    navigator.wakeLock.request("screen").then(function (sentinel) {
      lock = sentinel;
      show(true);
    }, function () { show(false); });
  }
  function release() {
    if (lock && !lock.released) { lock.release().catch(function () {}); }
    lock = null;
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { acquire(); }
  });
  window.addEventListener("pagehide", release);
  acquire();

  // The browser's own full-screen mode, offered where it exists (a tap is needed to enter it).
  var toggle = document.querySelector("[data-fullscreen]");
  var root = document.documentElement;
  if (toggle && document.fullscreenEnabled && root.requestFullscreen) {
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      if (document.fullscreenElement) { document.exitFullscreen(); } else { root.requestFullscreen().catch(function () {}); }
    });
    document.addEventListener("fullscreenchange", function () {
      toggle.textContent = toggle.getAttribute(document.fullscreenElement ? "data-leave" : "data-enter");
    });
  }
  var exit = document.querySelector("[data-exit-screen]");
  if (exit) {
    exit.addEventListener("click", function () {
      release();
      if (document.fullscreenElement) { document.exitFullscreen().catch(function () {}); }
    });
  }
})();

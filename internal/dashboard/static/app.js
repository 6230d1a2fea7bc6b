// Progressive enhancement for the codeqr dashboard: everything works without
// this file; it adds copy buttons, the picker's search, the browser's time
// zone for analytics, confirmations and the QR designer's live preview.
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("[data-copy]");
    if (!b) return;
    var text = b.getAttribute("data-copy");
    var done = function () { var old = b.textContent; b.textContent = "Copied"; setTimeout(function () { b.textContent = old; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else {
      var t = document.createElement("textarea"); t.value = text; document.body.appendChild(t); t.select();
      try { document.execCommand("copy"); done(); } catch (e) {} document.body.removeChild(t);
    }
  });
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });
  document.querySelectorAll("[data-picker-search]").forEach(function (input) {
    var box = document.getElementById(input.getAttribute("data-picker-search"));
    input.addEventListener("input", function () {
      var q = input.value.toLowerCase();
      box.querySelectorAll("[data-picker-item]").forEach(function (item) {
        item.hidden = q !== "" && item.textContent.toLowerCase().indexOf(q) < 0;
      });
    });
  });
  // The QR designer: show the selected type's fields, redraw the preview.
  var typeSel = document.querySelector("[data-qr-type-select]");
  if (typeSel) {
    var showType = function () {
      document.querySelectorAll("[data-qr-type]").forEach(function (fs) {
        fs.hidden = fs.getAttribute("data-qr-type") !== typeSel.value;
      });
    };
    typeSel.addEventListener("change", showType);
    showType();
    var form = typeSel.form, img = document.querySelector("[data-qr-preview]");
    var state = document.getElementById("qr-preview-state"), timer = null;
    var redraw = function () {
      var data = new URLSearchParams(new FormData(form));
      data.delete("csrf");
      img.src = "/app/qrcodes/preview.svg?" + data.toString();
    };
    form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(redraw, 250); });
    form.addEventListener("change", redraw);
    img.addEventListener("error", function () { state.textContent = "The preview cannot be drawn yet: check the fields."; });
    img.addEventListener("load", function () { state.textContent = "It follows your changes."; });
  }
  var tz = document.querySelector("[data-timezone]");
  if (tz && !tz.value && window.Intl) {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone) {
      var u = new URL(window.location.href);
      if (!u.searchParams.get("timezone")) { u.searchParams.set("timezone", zone); window.location.replace(u.toString()); }
    }
  }
})();

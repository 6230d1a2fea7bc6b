// Progressive enhancement for the codeqr dashboard: everything works without
// this file; it adds copy buttons, the picker's search, the browser's time
// zone for analytics, confirmations, the QR designer's live preview, times
// entered in the browser's own time zone (sent in UTC) and the UTM builder's
// final URL.
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
  // Times in the browser's time zone: the visible field shows and takes local
  // time; a hidden field of the same name carries its UTC value, which is what
  // the server reads (without this script, the visible field is UTC itself).
  var pad = function (n) { return (n < 10 ? "0" : "") + n; };
  var localOf = function (d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  };
  var utcOf = function (d) {
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + "T" + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  };
  var zoneName = (window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone) || "your time zone";
  document.querySelectorAll("input[data-utc]").forEach(function (input) {
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = input.name;
    input.removeAttribute("name");
    input.parentNode.appendChild(hidden);
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(input.value)) {
      var u = new Date(input.value.slice(0, 16) + ":00Z");
      if (!isNaN(u)) input.value = localOf(u);
    }
    var label = input.parentNode.querySelector("[data-local-label]");
    if (label) label.textContent = label.textContent.replace("(UTC", "(your time, " + zoneName);
    var hint = input.parentNode.querySelector("[data-utc-hint]");
    var sync = function () {
      var d = input.value ? new Date(input.value) : null;
      if (d && !isNaN(d)) {
        hidden.value = utcOf(d);
        if (hint) hint.textContent = "Saved in UTC: " + hidden.value.replace("T", " ") + " UTC.";
      } else {
        hidden.value = input.value;
        if (hint) hint.textContent = "In your time zone (" + zoneName + "); saved in UTC.";
      }
    };
    input.addEventListener("input", sync);
    input.addEventListener("change", sync);
    if (input.form) input.form.addEventListener("submit", sync);
    sync();
  });
  // The UTM builder's final URL, by the server's rule (withUTM in links.go):
  // a non-empty field sets its parameter in place, or appends it.
  var finalOut = document.querySelector("[data-utm-final]");
  if (finalOut) {
    var utmNames = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];
    var form2 = finalOut.closest("form");
    var escape = function (v) { return encodeURIComponent(v).replace(/%20/g, "+"); };
    var build = function () {
      var raw = form2.elements.url.value.trim();
      if (!raw) { finalOut.textContent = ""; return; }
      var hashAt = raw.indexOf("#"), frag = null;
      if (hashAt >= 0) { frag = raw.slice(hashAt + 1); raw = raw.slice(0, hashAt); }
      var qAt = raw.indexOf("?"), base = raw, query = "";
      if (qAt >= 0) { base = raw.slice(0, qAt); query = raw.slice(qAt + 1); }
      var values = {}, done = {}, parts = [];
      utmNames.forEach(function (n) { values[n] = form2.elements[n].value.trim(); });
      query.split("&").forEach(function (p) {
        if (!p) return;
        var name = p.split("=")[0];
        if (utmNames.indexOf(name) >= 0 && values[name] !== "") {
          if (done[name]) return;
          done[name] = true;
          p = name + "=" + escape(values[name]);
        }
        parts.push(p);
      });
      utmNames.forEach(function (n) { if (values[n] !== "" && !done[n]) parts.push(n + "=" + escape(values[n])); });
      finalOut.textContent = base + (parts.length ? "?" + parts.join("&") : "") + (frag !== null ? "#" + frag : "");
    };
    form2.addEventListener("input", build);
    build();
  }
})();

// activator console: live status by polling. Every element with an id and
// data-live is replaced by its newer copy from the same URL every few
// seconds, so statuses change without a reload; nothing else on the page
// (selections, half-typed forms) is touched. Each poll sends the ETag of
// the last copy: the server answers 304 with no body while nothing changed.
(function () {
  "use strict";
  var live = document.querySelectorAll("[data-live][id]");
  var etag = "";
  function refresh() {
    if (document.hidden) return; // a tab nobody looks at asks nothing
    var headers = { "X-Live": "1" };
    if (etag) headers["If-None-Match"] = etag;
    fetch(location.href, { headers: headers, credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.status !== 200) return null; // 304: nothing changed
        etag = r.headers.get("ETag") || "";
        return r.text();
      })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var reload = false;
        document.querySelectorAll("[data-live][id]").forEach(function (el) {
          var fresh = doc.getElementById(el.id);
          // A part whose state changes from one that shows no more than
          // progress (a file being checked) brings the whole page, its preview.
          if (fresh && el.dataset.reloadFrom && el.dataset.state === el.dataset.reloadFrom && fresh.dataset.state !== el.dataset.state) reload = true;
          if (fresh && fresh.innerHTML !== el.innerHTML) {
            el.innerHTML = fresh.innerHTML;
            for (var i = 0; i < fresh.attributes.length; i++) el.setAttribute(fresh.attributes[i].name, fresh.attributes[i].value);
          }
        });
        if (reload) location.reload();
      })
      .catch(function () {});
  }
  if (live.length) setInterval(refresh, 1500);
  document.querySelectorAll("input[data-all]").forEach(function (all) {
    var boxes = 'input[name="' + all.dataset.all + '"]';
    var count = document.getElementById("selected-count");
    function counted() {
      if (count) {
        var n = document.querySelectorAll(boxes + ":checked").length;
        count.textContent = n ? n + " selected" : "";
      }
    }
    all.addEventListener("change", function () {
      document.querySelectorAll(boxes).forEach(function (c) { c.checked = all.checked; });
      counted();
    });
    document.querySelectorAll(boxes).forEach(function (c) { c.addEventListener("change", counted); });
    counted();
  });
  // The templates preview re-renders as soon as a choice changes.
  document.querySelectorAll("form[data-autosubmit]").forEach(function (f) {
    f.addEventListener("change", function () { f.submit(); });
  });
  // The Setup menu closes on a tap elsewhere and on Escape, as menus do
  // (without the script it closes on its own title, and on the next page).
  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (d) { if (d !== except) d.open = false; });
  }
  document.addEventListener("click", function (e) { closeMenus(e.target.closest && e.target.closest("details.menu")); });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") closeMenus(null); });
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) { if (!confirm(f.dataset.confirm)) e.preventDefault(); });
  });
})();

// activator console: live status by polling. Every element with an id and
// data-live is replaced by its newer copy from the same URL every few
// seconds, so statuses change without a reload; nothing else on the page
// (selections, half-typed forms) is touched.
(function () {
  "use strict";
  var live = document.querySelectorAll("[data-live][id]");
  function refresh() {
    if (document.hidden) return; // a tab nobody looks at asks nothing
    fetch(location.href, { headers: { "X-Live": "1" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
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
    all.addEventListener("change", function () {
      document.querySelectorAll('input[name="' + all.dataset.all + '"]').forEach(function (c) { c.checked = all.checked; });
    });
  });
  // The templates preview re-renders as soon as a choice changes.
  document.querySelectorAll("form[data-autosubmit]").forEach(function (f) {
    f.addEventListener("change", function () { f.submit(); });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) { if (!confirm(f.dataset.confirm)) e.preventDefault(); });
  });
})();

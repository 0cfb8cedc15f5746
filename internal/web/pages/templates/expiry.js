(function () {
  "use strict";
  var t = document.getElementById("expires");
  var at = t && new Date(t.getAttribute("datetime"));
  var text = t && t.getAttribute("data-until");
  if (!at || isNaN(at.getTime()) || !text || !window.Intl) return;
  var lang = document.documentElement.lang, locale = lang;
  var known = [Intl.DateTimeFormat().resolvedOptions().locale].concat(navigator.languages || []);
  for (var i = 0; i < known.length; i++) {
    if (known[i] && known[i].split("-")[0].toLowerCase() === lang) { locale = known[i]; break; }
  }
  t.textContent = text.replace("{date}", at.toLocaleString(locale, {
    year: "numeric", month: "long", day: "numeric", hour: "numeric", minute: "2-digit"
  }));
})();

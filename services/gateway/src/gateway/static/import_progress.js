// The import page while the file is read or applied: asks the JSON route every second and updates the bar and
// the counts; when the state changes (review, done, failed) the page is reloaded to show what comes next.
// A static file, not inline: the site's Content-Security-Policy refuses inline scripts.
(function () {
  "use strict";
  var box = document.getElementById("progression");
  if (!box || !window.fetch) { return; }
  var source = box.getAttribute("data-source");
  var state = box.getAttribute("data-state");
  var bar = document.getElementById("barre");

  function show(name, value) {
    var element = box.querySelector('[data-field="' + name + '"]');
    if (element) { element.textContent = value; }
  }

  function number(value) {
    return Math.round(value).toLocaleString("fr-FR");
  }

  function duration(seconds) {
    var s = Math.max(Math.round(seconds), 0);
    var hours = Math.floor(s / 3600), minutes = Math.floor((s % 3600) / 60);
    return (hours ? hours + " h " : "") + (s >= 60 ? minutes + " min " : "") + (s % 60) + " s";
  }

  function counts(view) {
    var c = view.counts;
    return c.created + " créée(s), " + c.updated + " mise(s) à jour, " + c.unchanged + " inchangée(s), " +
      c.rejected + " rejetée(s)";
  }

  function update(view) {
    if (view.state !== state) { window.location.reload(); return; }
    if (view.rows_total) {
      bar.max = view.rows_total;
      bar.value = view.rows_done;
    } else {
      bar.removeAttribute("value");  // indeterminate until the rows are counted
    }
    bar.textContent = view.rows_done + " sur " + view.rows_total;
    show("rows_done", number(view.rows_done));
    show("rows_total", number(view.rows_total));
    show("rows_per_s", view.rows_per_s ? number(view.rows_per_s) + " lignes par seconde" : "en cours de mesure");
    show("eta", view.eta_s === null || view.eta_s === undefined ? "en cours d'estimation"
      : "environ " + duration(view.eta_s));
    show("counts", counts(view));
    window.setTimeout(poll, 1000);
  }

  function poll() {
    window.fetch(source, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) {
        if (!answer.ok) { throw new Error(String(answer.status)); }
        return answer.json();
      })
      .then(update)
      .catch(function () { window.setTimeout(poll, 3000); });
  }

  window.setTimeout(poll, 1000);
}());

// « Orienter » on the notebook (progressive enhancement: without it the form works in steps, each a page).
// The structures offered follow the chosen orientation system (data-systems), the professionals the chosen
// structure and system (data-structures, data-systems); the step buttons are then of no use and are hidden.
// Kept here rather than done with htmx (an hx-get of the step page with hx-select on each change): every option is
// already in the page with what it fits, so filtering needs no request — instant, nothing lost on a slow or failed
// network, no page rendered three times per orientation — and the server's steps stay what works without JavaScript.
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-orientation-form]")) {
    const system = form.querySelector('select[name="orientation_system_id"]');
    const structure = form.querySelector('select[name="structure_id"]');
    const referent = form.querySelector('select[name="referent_id"]');
    if (!system || !structure || !referent) continue;
    const has = (option, name, value) => (option.dataset[name] || "").split(" ").includes(value);
    // On load a choice already made stays (the page may be showing why it was refused); a change filters it out.
    const show = (select, fits, keep) => {
      for (const option of select.querySelectorAll("option[value]:not([value=''])")) {
        const offered = fits(option) || (keep && option.selected);
        option.hidden = option.disabled = !offered;
        if (!offered && option.selected) select.value = "";
      }
    };
    const filter = (keep) => {
      show(structure, (option) => system.value !== "" && has(option, "systems", system.value), keep);
      show(referent, (option) => structure.value !== "" && has(option, "systems", system.value)
                                 && has(option, "structures", structure.value), keep);
    };
    for (const button of form.querySelectorAll("[data-step]")) button.hidden = true;
    system.addEventListener("change", () => filter(false));
    structure.addEventListener("change", () => filter(false));
    filter(true);
  }
});

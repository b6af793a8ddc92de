// « Ajouter une personne » on the people page (progressive enhancement: without it, « Afficher les dispositifs de
// cette structure » reloads the page with them). The dispositifs offered follow the structure chosen: only those it
// offers (data-structures), as the directory refuses the others; one filtered out is unticked and disabled, so it is
// never sent; the step button is then of no use and is removed.
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-person-form]")) {
    const structure = form.querySelector('select[name="structure_ids"]');
    const systems = form.querySelector("[data-person-systems]");
    if (!structure || !systems) continue;
    const filter = () => {
      let offered = 0;
      for (const choice of systems.querySelectorAll("[data-structures]")) {
        const shown = structure.value !== "" && choice.dataset.structures.split(" ").includes(structure.value);
        const box = choice.querySelector("input");
        choice.hidden = !shown;
        box.disabled = !shown;
        if (!shown) box.checked = false;
        if (shown) offered += 1;
      }
      systems.querySelector('[data-when="none-chosen"]').hidden = structure.value !== "";
      systems.querySelector('[data-when="none-offered"]').hidden = structure.value === "" || offered > 0;
    };
    // Removed, not hidden: the first submit button is the one Enter presses in a field.
    for (const button of form.querySelectorAll("[data-step]")) button.remove();
    structure.addEventListener("change", filter);
    filter();
  }
});

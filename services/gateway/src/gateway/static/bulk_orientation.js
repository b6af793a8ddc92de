// The beneficiaries' list, for those who orient in bulk (progressive enhancement: the page works without it).
// « Sélectionner tous les bénéficiaires de cette page » ticks every row; the référents offered follow the chosen
// orientation system and structure, and choosing a référent chooses their structure.
document.addEventListener("DOMContentLoaded", () => {
  const all = document.getElementById("select-page");
  if (all) {
    all.addEventListener("change", () => {
      for (const box of document.querySelectorAll('input[name="notebook_ids"]')) box.checked = all.checked;
    });
  }
  const system = document.getElementById("bulk-system");
  const structure = document.getElementById("bulk-structure");
  const referent = document.getElementById("bulk-referent");
  if (!system || !structure || !referent) return;
  const filter = () => {
    for (const option of referent.querySelectorAll("option[data-structure]")) {
      const holds = !system.value || option.dataset.systems.split(" ").includes(system.value);
      const works = !structure.value || option.dataset.structure === structure.value;
      option.hidden = option.disabled = !(holds && works);
      if (option.disabled && option.selected) referent.value = "";
    }
  };
  system.addEventListener("change", filter);
  structure.addEventListener("change", filter);
  referent.addEventListener("change", () => {
    const chosen = referent.selectedOptions[0];
    if (chosen && chosen.dataset.structure) {
      structure.value = chosen.dataset.structure;
      filter();
    }
  });
});

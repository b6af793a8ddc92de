// The notebook page, enhanced (without JavaScript every panel shows, one after the other, and every form posts and
// comes back to its section).
//
// 1. Tabs. The page groups its sections in panels (Situation, Parcours, Rendez-vous…, [data-tab-panel]); the
//    navigation « Sections du carnet » links to each panel's first section. Here one panel shows at a time: the one
//    holding the section the address names (a form returns to "#plan", the summary band links to "#groupe"), else
//    the one a refused form came back to (data-open), else the first. The address keeps the section, so reloading
//    or going back shows the same panel. The links stay links, the shown one marked aria-current.
// 2. Partial updates (htmx, vendor/, its attributes in the templates). A status changed in a list (an action, an
//    appointment: form[data-inline]) is saved without leaving the page: the form posts as it would, and the row is
//    replaced by the same row of the page that comes back (hx-select), as are the summary band, the counters and the
//    history (hx-select-oob); here, what the save did is read out beside the list and the focus comes back to the
//    new row. The ROME search of the diagnostic replaces only the métier choices. An answer without the part asked
//    for (signed out, the row gone) shows as a page; a network failure posts the form as without JavaScript.
document.addEventListener("DOMContentLoaded", () => {
  const nav = document.querySelector(".notebook-nav");
  const panels = Array.from(document.querySelectorAll("[data-tab-panel]"));
  if (nav && panels.length > 1) tabs(nav, panels);
});

function tabs(nav, panels) {
  const links = Array.from(nav.querySelectorAll("a[data-tab]"));
  const byId = (id) => (id ? document.getElementById(id) : null);
  const panelOf = (element) => (element ? panels.find((panel) => panel.contains(element)) : undefined);
  const named = () => byId(decodeURIComponent(location.hash.slice(1)));
  const show = (panel) => {
    for (const other of panels) other.hidden = other !== panel;
    for (const link of links) {
      if (link.dataset.tab === panel.id) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    }
  };
  // Goes to a section: its panel shows, the section comes into view and takes the focus (as a link's target would).
  const reach = (target, focus) => {
    show(panelOf(target));
    target.scrollIntoView({block: "start"});
    if (focus) {
      if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
      target.focus({preventScroll: true});
    }
  };
  nav.classList.add("tabs");
  const target = named();
  const notice = document.querySelector("main > .alert-success[role=status]");
  if (panelOf(target)) {
    reach(target, false);
    // The success notice of a form goes where the eye is: under the section's title, not at the top of the page.
    const title = target.querySelector("h2");
    if (notice && title) title.after(notice);
  } else {
    show(panelOf(byId(nav.dataset.open)) || panelOf(document.querySelector("[data-tab-panel] [role=alert]"))
         || panels[0]);
  }
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[href^='#']");
    const section = link && byId(decodeURIComponent(link.getAttribute("href").slice(1)));
    if (!panelOf(section) || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    history.pushState(null, "", link.getAttribute("href"));
    if (link.dataset.tab) {  // a tab: its panel shows where the tabs are, which stay in view
      show(panelOf(section));
      if (nav.getBoundingClientRect().top < 0) nav.scrollIntoView({block: "start"});
      const title = section.querySelector("h2");
      if (title) {
        title.setAttribute("tabindex", "-1");
        title.focus({preventScroll: true});
      }
    } else {
      reach(section, true);
    }
  });
  const follow = () => {
    const section = named();
    if (panelOf(section)) reach(section, false);
    else if (!location.hash) show(panels[0]);
  };
  window.addEventListener("popstate", follow);
  window.addEventListener("hashchange", follow);
}

let saving = null;  // the inline save under way: its row's id, the control that had the focus

document.addEventListener("htmx:beforeRequest", (event) => {
  const row = event.detail.target;
  if (!event.detail.elt.matches("form[data-inline]")) return;
  statusOf(row).textContent = "";  // in place before anything changes, so that screen readers read what comes
  const focused = row.contains(document.activeElement) ? document.activeElement.tagName.toLowerCase() : null;
  saving = {row: row.id, focused, said: ""};
});

document.addEventListener("htmx:beforeSwap", (event) => {
  const {xhr, target, requestConfig} = event.detail;
  const answer = new DOMParser().parseFromString(xhr.responseText, "text/html");
  if (!target.id || !answer.getElementById(target.id)) {  // something else answered: show it as a page
    event.detail.shouldSwap = false;
    const asked = new URL(requestConfig.path, location.href).href;
    location.assign(xhr.responseURL && xhr.responseURL !== asked ? xhr.responseURL : location.href);
    return;
  }
  event.detail.shouldSwap = true;  // a refusal (4xx) is the page again, with the row as stored and why
  event.detail.isError = false;
  if (saving && saving.row === target.id) {
    const refusal = answer.querySelector("[data-tab-panel] .alert-error, main > .alert-error");
    const notice = answer.querySelector("main > .alert-success");
    saving.refused = Boolean(refusal);
    saving.said = (refusal ? refusal.textContent : notice ? notice.textContent : "Enregistré.").trim();
  }
});

document.addEventListener("htmx:afterSwap", (event) => {
  const row = event.target;
  if (!saving || row.id !== saving.row) return;
  const status = statusOf(row);
  status.classList.toggle("inline-refused", saving.refused);
  status.textContent = saving.said;
  const control = saving.focused && row.querySelector(saving.focused);
  if (control) control.focus();
  saving = null;
});

document.addEventListener("htmx:sendError", (event) => {  // the network failed: post as without JavaScript
  const source = event.detail.elt;
  saving = null;
  if (source.form) source.form.requestSubmit(source);  // a button (the search): its form, without htmx
  else HTMLFormElement.prototype.submit.call(source);  // a form[data-inline]: without its htmx submit handler
});

// Where what a save did is said, read out by screen readers: above the list it was made in.
function statusOf(row) {
  const list = row.closest("table") || row;
  let status = list.previousElementSibling;
  if (!status || !status.classList.contains("inline-status")) {
    status = document.createElement("p");
    status.className = "inline-status";
    status.setAttribute("aria-live", "polite");
    list.before(status);
  }
  return status;
}

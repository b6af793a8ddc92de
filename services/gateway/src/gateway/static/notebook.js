// The notebook page, enhanced (without JavaScript every panel shows, one after the other, and every form posts and
// comes back to its section).
//
// 1. Tabs. The page groups its sections in panels (Situation, Parcours, Rendez-vous…, [data-tab-panel]); the
//    navigation « Sections du carnet » links to each panel's first section. Here one panel shows at a time: the one
//    holding the section the address names (a form returns to "#plan", the summary band links to "#groupe"), else
//    the one a refused form came back to (data-open), else the first. The address keeps the section, so reloading
//    or going back shows the same panel. The links stay links, the shown one marked aria-current.
// 2. Inline saving. A status changed in a list (an action, an appointment: form[data-inline]) is saved without
//    leaving the page: the form posts as it would, and the row is replaced by the same row of the page that comes
//    back (new status, new version), as is each [data-inline-refresh] part (the summary band, the counters, the
//    history); the page's notice or refusal is read out beside the list.
document.addEventListener("DOMContentLoaded", () => {
  const nav = document.querySelector(".notebook-nav");
  const panels = Array.from(document.querySelectorAll("[data-tab-panel]"));
  if (nav && panels.length > 1) tabs(nav, panels);
  for (const form of document.querySelectorAll("form[data-inline]")) form.addEventListener("submit", saveInline);
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

async function saveInline(event) {
  const form = event.currentTarget;
  const row = form.closest("[id]");
  event.preventDefault();
  const status = statusOf(row);  // in place before anything changes, so that screen readers read what comes
  status.textContent = "";
  // The control that had the focus (the button, the list) gets it back in the new row.
  const focused = row.contains(document.activeElement) ? document.activeElement.tagName.toLowerCase() : null;
  const button = form.querySelector("button");
  button.disabled = true;
  let response, answer;
  try {
    response = await fetch(form.action, {method: "POST", body: new URLSearchParams(new FormData(form)),
                                         credentials: "same-origin"});
    answer = new DOMParser().parseFromString(await response.text(), "text/html");
  } catch (failure) {  // the network failed: post as without JavaScript, which says what happens
    form.submit();
    return;
  } finally {
    button.disabled = false;
  }
  const fresh = answer.getElementById(row.id);
  if (!fresh) {  // something else answered (signed out, the row gone): show it as a page
    location.assign(response.redirected ? response.url : location.href);
    return;
  }
  replace(row, fresh);
  for (const part of document.querySelectorAll("[data-inline-refresh][id]")) {
    const update = answer.getElementById(part.id);
    if (update) replace(part, update);
  }
  const refusal = answer.querySelector("[data-tab-panel] .alert-error, main > .alert-error");
  const notice = answer.querySelector("main > .alert-success");
  status.classList.toggle("inline-refused", Boolean(refusal));
  status.textContent = (refusal ? refusal.textContent : notice ? notice.textContent : "Enregistré.").trim();
  const control = focused && fresh.querySelector(focused);
  if (control) control.focus();
}

// Puts the page's new part in place of the old one, with the cells' column names (tables.js) and saving forms.
function replace(old, part) {
  old.replaceWith(part);
  if (window.labelTables) window.labelTables(part);
  for (const form of part.querySelectorAll("form[data-inline]")) form.addEventListener("submit", saveInline);
}

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

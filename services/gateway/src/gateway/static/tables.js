// On narrow screens each table row is a card (carnet.css): every cell is named by its column's header.
// labelTables(root) names the cells of the tables in root, or of root's table when root is a part of one (a row
// that htmx put in place after saving it: htmx:load, on each part it brings).
window.labelTables = (root) => {
  const table = root.closest ? root.closest("table") : null;
  for (const each of table ? [table] : root.querySelectorAll("table")) {
    const headers = Array.from(each.querySelectorAll("thead th")).map((th) => th.textContent.trim());
    each.querySelectorAll("tbody tr").forEach((row) => {
      Array.from(row.children).forEach((cell, i) => {
        if (headers[i] && !cell.hasAttribute("data-label") && !cell.hasAttribute("colspan")) {
          cell.setAttribute("data-label", headers[i]);
        }
      });
    });
  }
};
window.labelTables(document);
document.addEventListener("htmx:load", (event) => window.labelTables(event.target));

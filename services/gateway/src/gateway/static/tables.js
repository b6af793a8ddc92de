// On narrow screens each table row is a card (carnet.css): every cell is named by its column's header.
document.querySelectorAll("table").forEach((table) => {
  const headers = Array.from(table.querySelectorAll("thead th")).map((th) => th.textContent.trim());
  table.querySelectorAll("tbody tr").forEach((row) => {
    Array.from(row.children).forEach((cell, i) => {
      if (headers[i] && !cell.hasAttribute("data-label") && !cell.hasAttribute("colspan")) {
        cell.setAttribute("data-label", headers[i]);
      }
    });
  });
});

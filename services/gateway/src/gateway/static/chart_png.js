// « Télécharger (PNG) » of a dashboard figure: draws its inline SVG onto a canvas, twice its size, on white.
// Without JavaScript the link stays hidden; the CSV and the table give the same numbers.
document.querySelectorAll("a.png-download").forEach((link) => {
  const svg = document.getElementById(link.dataset.chart);
  if (!svg) return;
  link.hidden = false;
  link.addEventListener("click", (event) => {
    event.preventDefault();
    const box = svg.viewBox.baseVal;
    const scale = 2;
    const copy = svg.cloneNode(true);
    copy.setAttribute("width", box.width);
    copy.setAttribute("height", box.height);
    const source = new XMLSerializer().serializeToString(copy);
    const image = new Image();
    image.onload = () => {
      const canvas = document.createElement("canvas");
      canvas.width = box.width * scale;
      canvas.height = box.height * scale;
      const context = canvas.getContext("2d");
      context.fillStyle = "#ffffff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(image, 0, 0, canvas.width, canvas.height);
      const anchor = document.createElement("a");
      anchor.href = canvas.toDataURL("image/png");
      anchor.download = link.dataset.filename || "figure.png";
      document.body.appendChild(anchor);
      anchor.click();
      anchor.remove();
    };
    image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(source);
  });
});

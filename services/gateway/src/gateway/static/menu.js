// The header's menu folds under « Menu » on a phone (a <details>, base.html.j2). On a wider screen carnet.css shows
// its links whether it is open or not (::details-content); a browser that cannot gets it opened here instead, and
// folded again when the window narrows to a phone's width.
if (!CSS.supports("selector(::details-content)")) {
  const menu = document.querySelector(".main-menu");
  const wide = window.matchMedia("(min-width: 40.0625em)");
  const follow = () => { if (menu) { menu.open = wide.matches; } };
  follow();
  wide.addEventListener("change", follow);
}

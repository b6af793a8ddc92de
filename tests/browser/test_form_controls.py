"""carnet.css keeps every control a 44 px target and every form's layout whole, on a phone (320 px) and a desktop
(1280 px). Small pages are built from the templates' own markup (base.html.j2's menu, opened, the ROME search of the
diagnostic, the beneficiaries' search, « Mes données »' download links) and styled with the real stylesheet, so
this runs without the system, in a second."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

pytestmark = pytest.mark.browser
CSS = (Path(__file__).parents[2] / "services/gateway/src/gateway/static/carnet.css").read_text()

PAGE = """<!doctype html><html lang="fr"><head><meta name="viewport" content="width=device-width, initial-scale=1">
<style>{css}</style></head><body>
<header class="site-header"><div class="container header-row"><div><a class="brand" href="/">Carnet de bord</a></div>
  <nav aria-label="Menu principal" class="main-nav"><details class="main-menu" open>
    <summary id="menu"><span class="menu-icon" aria-hidden="true"></span>Menu</summary><div class="menu-links">
    <a href="/" aria-current="page">Accueil</a>
    <a id="nav-b" href="/beneficiaires">Bénéficiaires</a>
    <form method="post" action="/deconnexion" class="inline"><button type="submit" class="link-button">Se déconnecter</button></form>
  </div></details></nav></div></header>
<main class="container">
<form class="form" id="diagnostic">
  <div class="form-inline">
    <div><label for="metier">Rechercher un métier ou un code ROME</label><input id="metier" name="metier"></div>
    <button id="search" class="button button-secondary" type="submit" name="chercher" value="1">Rechercher</button>
  </div>
  <p class="hint" id="metier-hint">La recherche garde ce que vous avez déjà saisi.</p>
  <label for="d-from">Depuis le</label><input id="d-from" type="date" name="work_situation_date">
  <label for="km">Zone de mobilité (km)</label><input id="km" type="number" min="0" name="km">
  <label for="t">Heure</label><input id="t" type="time" name="t">
  <label for="dt">Le</label><input id="dt" type="datetime-local" name="dt">
  <label for="u">Site</label><input id="u" type="url" name="u">
  <label for="s">Chercher</label><input id="s" type="search" name="s">
  <div class="checkbox"><input type="checkbox" id="long" name="situation_ids" value="1"><label for="long">Difficulté
    à accéder à un logement adapté à la composition de la famille et aux ressources du foyer</label></div>
</form>
<form class="form form-inline" role="search">
  <div><label for="q">Rechercher un bénéficiaire</label><input id="q" name="q"></div>
  <div><label for="fmt">Format</label><br><select id="fmt" name="format"><option>CSV</option></select></div>
  <div class="checkbox"><input type="checkbox" id="mine" name="mine" value="1"><label for="mine">Mes bénéficiaires
    seulement</label></div>
  <button class="button" type="submit">Rechercher</button>
</form>
<p><a id="pdf" class="button" href="/mon-carnet/mes-donnees/pdf">Télécharger mes données (PDF)</a>
<a id="json" class="button button-secondary" href="/mon-carnet/mes-donnees/json">Télécharger mes données (JSON)</a></p>
<details><summary id="unfold">Ajouter une action à « Accéder à un logement »</summary><p>…</p></details>
<form class="form"><select name="status"><option>En cours</option></select>
  <button id="small" class="button button-small" type="submit">Modifier le statut</button></form>
<table><tr><td><input type="checkbox" id="row-box" aria-label="Appliquer la ligne 2"></td>
  <th scope="row"><a id="row-head-link" href="/carnets/1">Sophie TIFOUR</a></th>
  <td><a id="row-link" href="/territoire/structures/1">Centre communal d'action sociale de Livry-Gargan</a></td></tr>
</table>
<form class="form"><label for="dep">Nom du territoire</label><input id="dep" name="label">
  <fieldset><legend>Premier gestionnaire du territoire (il reçoit une invitation)</legend>
  <label for="firstname">Prénom</label>
<input id="firstname" name="firstname" required value="">
  <label for="lastname">Nom</label>
<input id="lastname" name="lastname" required value=""></fieldset>
  <button type="submit" class="button">Ouvrir le territoire</button></form>
<table id="journal"><tr><td class="nowrap">358</td><td class="nowrap"><span id="when">29/11/2026 13:20</span></td>
  <td>a0a0b0b4-1795-47cc-8da5-11fcc0b9d622</td><td>Gestionnaire du territoire</td><td>Modification du carnet</td>
  <td>Carnet 93000000-0000-4000-8000-0000000c0001</td><td>93000000-0000-4000-8000-0000000c0001</td>
  <td>rpc : rpc.notebook.sign_contract.v1</td></tr></table>
<ul class="tile-row"><li class="tile"><span class="tile-number">4</span> <span id="tile-label">professionnels</span></li>
  <li class="tile"><span class="tile-number">12</span> bénéficiaires</li></ul>
</main></body></html>"""


async def styled_page(browser: Browser, width: int) -> Page:
    page = await (await browser.new_context(viewport={"width": width, "height": 800})).new_page()
    await page.set_content(PAGE.format(css=CSS))
    return page


async def box(page: Page, selector: str) -> dict:
    return await page.locator(selector).bounding_box()


@pytest.mark.parametrize("width", [320, 1280])
async def test_every_field_link_and_menu_entry_is_a_44_px_target(browser: Browser, width: int):
    page = await styled_page(browser, width)
    for selector in ("#d-from", "#km", "#t", "#dt", "#u", "#s", "#metier", "#q", "#search", "#pdf", "#json",
                     "#nav-b", ".link-button", "#unfold", "#small", "#row-link", "#row-head-link"):
        assert (await box(page, selector))["height"] >= 44, f"{selector} at {width} px"
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    menu = page.locator("#menu")  # the header's « Menu », shown on a phone only (the menu opened here)
    assert (await box(page, "#menu"))["height"] >= 44 if width == 320 else not await menu.is_visible()


async def test_the_rome_search_button_sits_beside_its_field_on_a_desktop(browser: Browser):
    page = await styled_page(browser, 1280)
    field, button, hint = await box(page, "#metier"), await box(page, "#search"), await box(page, "#metier-hint")
    assert button["x"] > field["x"] + field["width"], "the button is beside the field"
    assert abs((button["y"] + button["height"]) - (field["y"] + field["height"])) <= 2, "their bottoms align"
    assert hint["y"] - (field["y"] + field["height"]) <= 24, "no empty space under the search"


async def test_the_rome_search_button_follows_its_field_closely_on_a_phone(browser: Browser):
    page = await styled_page(browser, 320)
    field, button, hint = await box(page, "#metier"), await box(page, "#search"), await box(page, "#metier-hint")
    assert 0 <= button["y"] - (field["y"] + field["height"]) <= 16
    assert hint["y"] - (button["y"] + button["height"]) <= 24, "no empty space under the button"


@pytest.mark.parametrize("width", [320, 1280])
async def test_checkboxes_keep_their_size_beside_their_label(browser: Browser, width: int):
    page = await styled_page(browser, width)
    for box_id in ("#long", "#mine"):
        checkbox, label = await box(page, box_id), await box(page, f"label[for={box_id[1:]}]")
        assert 19 <= checkbox["width"] <= 24, f"{box_id} at {width} px: {checkbox}"
        assert label["x"] - (checkbox["x"] + checkbox["width"]) <= 16, f"{box_id}'s label is next to it"
    assert (await box(page, "#row-box"))["width"] >= 19, "a box in a table (an import's rows) too"


async def test_button_links_side_by_side_never_overlap_on_a_phone(browser: Browser):
    page = await styled_page(browser, 320)
    pdf, json = await box(page, "#pdf"), await box(page, "#json")
    apart = (json["y"] >= pdf["y"] + pdf["height"]) or (json["x"] >= pdf["x"] + pdf["width"])
    assert apart, f"{pdf} overlaps {json}"
    assert pdf["x"] + pdf["width"] <= 320 and json["x"] + json["width"] <= 320


async def test_a_key_figure_keeps_its_word_whole_two_a_row_on_a_phone(browser: Browser):
    page = await styled_page(browser, 320)
    label = page.locator("#tile-label")
    assert (await label.bounding_box())["height"] < 30, "« professionnels » on one line, not cut"
    first, second = await page.locator(".tile").nth(0).bounding_box(), await page.locator(".tile").nth(1).bounding_box()
    assert first["y"] == second["y"], "two figures a row"


@pytest.mark.parametrize("width", [320, 1280])
async def test_a_label_sits_right_over_its_field_in_a_one_line_form(browser: Browser, width: int):
    page = await styled_page(browser, width)  # exports.html.j2, annuaire.html.j2: a <br> between them
    label, field = await box(page, "label[for=fmt]"), await box(page, "#fmt")
    assert 0 <= field["y"] - (label["y"] + label["height"]) <= 8


@pytest.mark.parametrize("width", [320, 1280])
async def test_a_date_in_a_crowded_table_stays_on_one_line(browser: Browser, width: int):
    page = await styled_page(browser, width)  # audit.html.j2: « 29/11/2 026 » between long identifiers
    assert (await box(page, "#when"))["height"] < 30  # one line
    assert await page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [320, 1280])
async def test_fields_in_a_fieldset_stack_label_over_field(browser: Browser, width: int):
    page = await styled_page(browser, width)  # deployments.html.j2: the first manager's fields (_person_fields)
    first, last = await box(page, "#firstname"), await box(page, "#lastname")
    label = await box(page, "label[for=lastname]")
    assert first["x"] == last["x"] and label["y"] > first["y"] + first["height"] - 1
    assert last["y"] > label["y"]

"""Issue 18's « done when », in Chromium on the lived-in demo: the territory's manager answers « combien de
bénéficiaires soumis aux droits et devoirs n'ont pas de CER, par structure » with the filter builder, saves the
query, exports it to Excel, finds the same numbers on the dashboard's CER figure, and follows one of its counts
back to the list behind it."""
from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from python_calamine import CalamineWorkbook

from carnet.main import _seed
from contracts.identity import Role
from tests.browser.test_every_role_logs_in import SCREENSHOTS, accept_steps, log_in_by_email

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]
QUERY_NAME = "Droits et devoirs sans CER"
CER_FIGURE = "CER des bénéficiaires soumis aux droits et devoirs, par structure"


async def total_on(page: Page) -> int:
    return int(re.match(r"\d+", await page.locator("#resultat").inner_text()).group())


async def table_counts(page: Page, caption: str, column: int) -> dict[str, int]:
    """Row label → the number in ``column`` (0-based, after the label) of the table with that caption."""
    table = page.locator("table", has=page.locator("caption", has_text=caption))
    counts = {}
    for row in await table.locator("tbody tr").all():
        cells = await row.locator("th, td").all_inner_texts()
        counts[cells[0].strip()] = int(re.sub(r"\D", "", cells[1 + column]) or 0)
    return counts


async def test_a_manager_answers_from_a_saved_query_exports_it_and_sees_the_same_numbers_on_the_dashboard(
        system, browser: Browser, tmp_path):
    await _seed(system.nats_url)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    manager = await (await browser.new_context(locale="fr-FR", accept_downloads=True)).new_page()
    await log_in_by_email(manager, system, "manager@demo.carnet.test")
    await accept_steps(manager, Role.manager)

    # The read model catches up with the seed's 300 notebooks through the bus: wait until its count settles.
    totals = []
    for _ in range(120):
        await manager.goto(f"{system.base_url}/beneficiaires/requetes?support=accompanied&support=waiting"
                           "&support=not_accompanied")
        totals.append(await total_on(manager))
        if len(totals) > 2 and totals[-1] == totals[-2] == totals[-3] and totals[-1] >= 300:
            break
        await asyncio.sleep(0.5)

    await manager.goto(f"{system.base_url}/beneficiaires")
    await manager.get_by_role("link", name="Requêtes et filtres avancés").click()
    await manager.get_by_label("Soumis aux droits et devoirs").select_option(label="Oui")
    await manager.get_by_label("Sans CER").check()
    await manager.get_by_role("button", name="Appliquer les filtres").click()
    total = await total_on(manager)
    by_structure = await table_counts(manager, "Répartition par structure", 0)
    assert total > 0 and len(by_structure) > 1 and sum(by_structure.values()) == total, by_structure

    await manager.get_by_label("Nom de la requête").fill(QUERY_NAME)
    await manager.get_by_label("Partager avec le territoire").check()
    await manager.get_by_role("button", name="Enregistrer cette requête").click()
    await expect(manager.get_by_role("status")).to_contain_text("enregistrée")
    # Re-run from the saved list, as she would tomorrow: the same answer.
    await manager.goto(f"{system.base_url}/beneficiaires/requetes")
    await manager.get_by_role("link", name=QUERY_NAME, exact=True).click()
    assert await total_on(manager) == total
    assert await table_counts(manager, "Répartition par structure", 0) == by_structure
    await manager.screenshot(path=SCREENSHOTS / "pilotage-query.png", full_page=True)

    await manager.get_by_role("button", name="Exporter en Excel").click()
    download_link = manager.get_by_role("link", name=re.compile("^Télécharger"))
    await expect(download_link).to_be_visible(timeout=60_000)
    await expect(manager.get_by_role("main")).to_contain_text(QUERY_NAME)
    async with manager.expect_download() as download:
        await download_link.click()
    path = tmp_path / (await download.value).suggested_filename
    assert path.suffix == ".xlsx"
    await (await download.value).save_as(path)
    header, *rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert len(rows) == total
    structure = header.index("Structure")
    exported = Counter(row[structure] for row in rows)
    assert sorted(exported.values()) == sorted(by_structure.values()), (exported, by_structure)

    await manager.get_by_role("link", name="Tableau de bord").first.click()
    figure = manager.get_by_role("region", name=CER_FIGURE)
    await expect(figure.locator("svg.chart:visible")).to_be_visible()
    columns = await figure.locator("thead th").all_inner_texts()
    on_dashboard = await table_counts(manager, CER_FIGURE, columns.index("Sans CER") - 1)
    assert {k: v for k, v in on_dashboard.items() if v} == by_structure, (on_dashboard, by_structure)
    await manager.screenshot(path=SCREENSHOTS / "pilotage-dashboard.png", full_page=True)
    # The figure as CSV (the table's numbers) and as PNG (its SVG drawn on a canvas by the browser).
    async with manager.expect_download() as csv_download:
        await figure.get_by_role("link", name=re.compile(r"^Télécharger \(CSV\)")).click()
    csv_text = Path(await (await csv_download.value).path()).read_bytes().decode("utf-8-sig")
    assert all(f"{name};" in csv_text for name in by_structure), csv_text
    async with manager.expect_download() as png_download:
        await figure.get_by_role("link", name=re.compile(r"^Télécharger \(PNG\)")).click()
    png = Path(await (await png_download.value).path()).read_bytes()
    assert (await png_download.value).suggested_filename == "couverture-cer.png"
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000, len(png)

    # A figure drills down to its list: the largest structure's « Sans CER » count opens the same beneficiaries.
    largest = max(by_structure, key=by_structure.get)
    row = figure.locator("tbody tr", has=manager.locator("th", has_text=largest))
    await row.locator("td").nth(columns.index("Sans CER") - 1).get_by_role("link").click()
    await expect(manager).to_have_url(re.compile("/beneficiaires/requetes"))
    assert await total_on(manager) == by_structure[largest]

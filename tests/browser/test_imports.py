"""Imports from the pages (issue 15, item 9): a manager of the demo territory uploads a beneficiaries file on
/imports, sees the review table, leaves one row out, applies, watches the progress, then reads the report."""
from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_TERRITORY
from contracts.directory import SeedDemoTerritoryV1
from contracts.identity import Role
from tests.browser.test_every_role_logs_in import SCREENSHOTS, accept_steps, log_in_by_email

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

# Enough rows for the progress to show for a moment; the four first are the ones looked at.
FILLER_ROWS = 1500
HEADER = "Identifiant dans le SI*;Prénom*;Nom*;Date de naissance*;Téléphone;Ville"
PEOPLE = ["NAV-1;Hélène;Çelik;12/03/1985;06 12 34 56 01;Bobigny",
          "NAV-2;Noël;Bœuf;1990-01-02;;Pantin",
          "NAV-3;Zoé;Exclue;03-04-1970;;Bondy",
          "NAV-4;Karim;Benali;1999-12-31;;Livry-Gargan"]


def beneficiaries_file() -> bytes:
    filler = [f"F-{n:05d};Prénom{n};Remplissage{n};{1950 + n % 50}-{1 + n % 12:02d}-{1 + n % 28:02d};;Sevran"
              for n in range(FILLER_ROWS)]
    return ("\r\n".join([HEADER, *PEOPLE, *filler]) + "\r\n").encode("utf-8-sig")


async def test_a_manager_uploads_reviews_excludes_applies_and_reads_the_report(system, browser: Browser):
    manager = next(a for a in DEMO_ACCOUNTS if a.role == Role.manager)
    await system.seed(manager, deployments=DEMO_DEPLOYMENTS)
    await system.call(SeedDemoTerritoryV1(
        deployment_id=DEMO_TERRITORY.deployment_id, label=DEMO_TERRITORY.label, department_code="93",
        people=[p for p in DEMO_TERRITORY.people if p.role == "manager"]))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = await (await browser.new_context(locale="fr-FR")).new_page()
    await log_in_by_email(page, system, manager.email)
    await accept_steps(page, manager.role)

    await page.get_by_role("link", name="Imports").first.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Imports de fichiers")
    beneficiaries = page.locator("section.import-kind").filter(has=page.get_by_role("heading", name="Bénéficiaires"))
    await expect(beneficiaries.get_by_role("link", name="CSV")).to_have_attribute(
        "href", "/api/v1/imports/templates/beneficiaries.csv")
    await beneficiaries.get_by_label("Fichier à importer").set_input_files(files=[{
        "name": "beneficiaires.csv", "mimeType": "text/csv", "buffer": beneficiaries_file()}])
    await page.screenshot(path=SCREENSHOTS / "imports-upload.png", full_page=True)
    await page.get_by_role("button", name="Importer : Bénéficiaires").click()

    # Read and checked, then the review: every row new.
    await expect(page.get_by_role("heading", name="Vérification avant enregistrement")).to_be_visible(timeout=60_000)
    await expect(page.get_by_role("main")).to_contain_text(f"{FILLER_ROWS + 4} ligne(s) applicable(s)")
    await expect(page.get_by_role("row", name="Hélène")).to_contain_text("Nouveau")
    await expect(page.get_by_role("row", name="Hélène")).to_contain_text("Çelik")
    await page.get_by_label("Appliquer la ligne 4", exact=True).uncheck()  # Zoé Exclue, the file's 4th line
    await page.screenshot(path=SCREENSHOTS / "imports-review.png", full_page=True)
    await page.get_by_role("button", name="Appliquer l'import").click()

    # The progress while rows are applied (a moment), then the result.
    result = page.get_by_role("heading", name="Résultat")
    progress = page.locator("#progression")
    await expect(progress.or_(result)).to_be_visible(timeout=30_000)
    if await progress.is_visible():
        await expect(progress.get_by_role("progressbar")).to_be_attached()
        await page.screenshot(path=SCREENSHOTS / "imports-progress.png", full_page=True)
    await expect(result).to_be_visible(timeout=120_000)
    tiles = page.locator(".tile")
    await expect(tiles.filter(has_text="créée(s)")).to_contain_text(str(FILLER_ROWS + 3))
    await expect(tiles.filter(has_text="exclue(s)")).to_contain_text("1")
    await expect(tiles.filter(has_text="rejetée(s)")).to_contain_text("0")
    report = page.get_by_role("link", name="CSV")
    assert (await report.get_attribute("href")).endswith("/report.csv")
    await expect(page.get_by_role("row", name="Zoé")).to_contain_text("Exclu")
    await page.screenshot(path=SCREENSHOTS / "imports-report.png", full_page=True)

    # The report as the link downloads it: every row, the excluded one included.
    async with page.expect_download() as download_info:
        await report.click()
    text = (await (await download_info.value).path()).read_text(encoding="utf-8-sig")
    assert text.count("\n") >= FILLER_ROWS + 5 and "Exclue" in text

    # The history lists it; the notebooks are there, Hélène Çelik intact.
    await page.get_by_role("link", name="Retour aux imports").click()
    await expect(page.get_by_role("row", name="beneficiaires.csv")).to_contain_text("Terminé")
    await page.screenshot(path=SCREENSHOTS / "imports-history.png", full_page=True)
    await page.goto(f"{system.base_url}/beneficiaires?q=celik")
    await expect(page.get_by_role("main")).to_contain_text("ÇELIK Hélène")  # surnames in capitals in lists

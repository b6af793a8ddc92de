"""France Travail's diagnostic argumenté on the notebook page (issue 16 item 3), through the gateway and the real bus,
on SQLite and PostgreSQL, against a local fake France Travail (never the real one): opening a notebook asks for it in
the background and the next view shows it with its date and source; "Actualiser depuis France Travail" for members,
France Travail down said in French (never a failure of ours); "Aucun dossier France Travail trouvé"; the beneficiary
reads it on "Mon carnet"; what France Travail sends is printed as text."""
from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator

import pytest
from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS, DEMO_TERRITORY

from testkit.france_travail import Fault, LocalFranceTravail, diagnostic_argumente
from testkit.system import bearer, csrf_of, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

SOPHIE, MYRNA = (DEMO_NOTEBOOKS.beneficiaries[i] for i in (0, 1))
HOSTILE = '<b id=injected>Développeur</b>'


@pytest.fixture(scope="module")
def france_travail() -> Iterator[LocalFranceTravail]:
    fake = LocalFranceTravail().start()
    dossier = copy.deepcopy(diagnostic_argumente())
    dossier["besoinsParDiagnosticIndividuDtos"].append({"nomMetier": HOSTILE, "besoins": []})
    fake.add_person("2800593190123", SOPHIE.beneficiary.date_of_birth.isoformat(), dossier)
    yield fake
    fake.stop()


@pytest.fixture
def service_env(france_travail) -> dict[str, dict[str, str]]:
    return {"notebook": france_travail.notebook_env(DEMO_NOTEBOOKS.deployment_id)}


async def until_page_says(client, path: str, text: str, timeout_s: float = 45) -> str:
    for _ in range(int(timeout_s / 0.2)):
        page = await client.get(path)
        assert page.status_code == 200, page.text
        if text in page.text:
            return page.text
        await asyncio.sleep(0.2)
    raise AssertionError(f"{path} never said {text!r}")


async def join_as_referent(client, token: str, notebook_id) -> None:
    for _ in range(75):  # the demo professionals reach the notebook's read model through events
        page = (await client.get(f"/api/v1/notebooks/{notebook_id}", headers=bearer(token))).json()
        if systems := page.get("my_orientation_systems"):
            break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError("the professional never reached the notebook")
    system_id = next(s["orientation_system_id"] for s in systems if s["name"] == "Professionnel")
    joined = await client.post(f"/api/v1/notebooks/{notebook_id}/members", headers=bearer(token),
                               json={"as_referent": True, "orientation_system_id": system_id})
    assert joined.status_code == 200, joined.text


async def test_the_notebook_page_shows_france_travail_s_diagnostic_after_a_view_and_on_demand(
        service_env, system, france_travail):
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    await system.call(DEMO_NOTEBOOKS)
    sophie = f"/carnets/{SOPHIE.notebook_id}"
    async with system.client() as api, system.client() as browser:
        await join_as_referent(api, await sign_in(system, api, "pro@demo.carnet.test"), SOPHIE.notebook_id)
        await system.login_by_link(browser, "pro@demo.carnet.test", count=2)

        # The first view is served at once and asks France Travail in the background; a later view shows it.
        first = await browser.get(sophie)
        assert first.status_code == 200 and "Diagnostic France Travail" in first.text
        page = await until_page_says(browser, sophie, "Données France Travail du")
        assert "source : France Travail (API diagnostic argumenté)" in page
        assert "diagnostic mis à jour par France Travail le 12/03/2024" in page
        for shown in ("<h3>Contrainte(s) personnelle(s)</h3>", "<h4>Développer sa mobilité</h4>",
                      "Dépendant des transports en commun", "Obtenir le permis de conduire",
                      '<span class="badge">En cours</span>', "Aide-soignant / Aide-soignante",
                      "Connaissance du métier : Besoin", "Actualiser depuis France Travail"):
            assert shown in page, shown
        assert "Acquérir un véhicule" not in page  # an objective not discussed
        assert "<b id=injected" not in page and "&lt;b id=injected&gt;" in page
        assert france_travail.client_secret not in page

        # "Actualiser": France Travail down is said in French (503), the last data still shown; then it answers.
        france_travail.fail_next(Fault(500))
        down = await browser.post(f"{sophie}/france-travail", data={"csrf": csrf_of(browser)})
        assert down.status_code == 503, down.text
        assert "France Travail ne répond pas, réessayez plus tard." in down.text
        assert "Développer sa mobilité" in down.text
        asked = len(france_travail.calls)
        again = await browser.post(f"{sophie}/france-travail", data={"csrf": csrf_of(browser)})
        assert again.status_code == 303 and again.headers["location"].endswith("notice=france_travail#france-travail")
        assert len(france_travail.calls) == asked + 2  # asked now, though the data was less than an hour old
        forged = await browser.post(f"{sophie}/france-travail", data={"csrf": "forged"})
        assert forged.status_code == 403 and len(france_travail.calls) == asked + 2

        # Nobody at France Travail for Myrna: said so, to the manager too.
        manager = await sign_in(system, api, "manager@demo.carnet.test")
        myrna = f"/carnets/{MYRNA.notebook_id}"
        assert (await api.get(myrna, headers=bearer(manager))).status_code == 200
        for _ in range(75):
            text = (await api.get(myrna, headers=bearer(manager))).text
            if "Aucun dossier France Travail trouvé" in text or "n'est pas renseigné" in text:
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError("Myrna's page never said France Travail's answer")

        # The beneficiary reads it on "Mon carnet", without the button.
        mine = await api.get("/mon-carnet", headers=bearer(await sign_in(system, api, "beneficiaire@demo.carnet.test")))
        assert mine.status_code == 200 and "Développer sa mobilité" in mine.text
        assert "Actualiser depuis France Travail" not in mine.text

        # A professional who is not a member sees the public card: no France Travail section.
        other = await api.get(sophie, headers=bearer(await sign_in(system, api, "pro2@demo.carnet.test")))
        assert other.status_code == 200 and "Diagnostic France Travail" not in other.text

"""No page has a serious or critical accessibility violation found by axe-core (the rules of RGAA/WCAG a machine
can check): the public pages, then every page each role of the demo territory reaches from its own, as in
test_narrow_screens. axe-core is installed, pinned, by `make axe` and injected into each page by the test. And a
main journey, from the login page to a notebook, goes with the keyboard only."""
from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit
from uuid import uuid4

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from carnet.demo import DEMO_ACCOUNTS, DEMO_DEPLOYMENTS, DEMO_NOTEBOOKS, DEMO_TERRITORY
from contracts.identity import Role
from tests.browser.conftest import ARTIFACTS
from tests.browser.crawl import crawl, for_each
from tests.browser.test_every_role_logs_in import every_role_signed_in, newest_message

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]
AXE = Path(os.environ.get("CARNET_AXE", Path(__file__).parents[2] / ".venv/node/node_modules/axe-core/axe.min.js"))
BLOCKING = ("serious", "critical")
# (rule, CSS selector of the node) that axe reports but which are not faults, each with why. Keep it short.
ACCEPTED: dict[tuple[str, str], str] = {}
# Serious and critical violations, each node with its page, rule, impact and what axe says to mend.
VIOLATIONS = """blocking => axe.run(document, {resultTypes: ["violations"]}).then(results => results.violations
  .filter(v => blocking.includes(v.impact))
  .flatMap(v => v.nodes.map(n => ({rule: v.id, impact: v.impact, target: n.target.join(" "),
                                   summary: (n.failureSummary || v.help).replace(/\\s+/g, " ").slice(0, 240)}))))"""


def need_axe() -> None:
    if not AXE.exists():
        if os.environ.get("REQUIRE_INFRA") == "1":
            pytest.fail(f"axe-core is missing at {AXE}: `make axe` installs it")
        pytest.skip("axe-core is not installed (`make axe`)")


async def violations(page: Page) -> list[str]:
    """axe's blocking violations on the page as it stands, one readable line each."""
    if not await page.evaluate("typeof axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, so the page's CSP (no inline script) stays as served.
        await page.evaluate(AXE.read_text())
    # What folds away (a confirmation, a form under « Modifier ») is checked unfolded: axe skips what is hidden.
    # And so is every tab of the notebook (static/notebook.js shows one at a time).
    await page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    await page.evaluate("document.querySelectorAll('[data-tab-panel]').forEach(p => { p.hidden = false; })")
    path = urlsplit(page.url).path
    return [f"{path} [{v['impact']}] {v['rule']} at {v['target']}: {v['summary']}"
            for v in await page.evaluate(VIOLATIONS, list(BLOCKING))
            if (v["rule"], v["target"]) not in ACCEPTED]


async def check(page: Page, found: list[str], who: str) -> None:
    """Adds the page's violations to `found`, with a screenshot of the page for CI to keep when it has some."""
    if lines := await violations(page):
        found.extend(f"{who} {line}" for line in lines)
        name = urlsplit(page.url).path.strip("/").replace("/", "_") or "accueil"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=ARTIFACTS / f"axe-{who}-{name[:60]}.png", full_page=True)


async def audit(page: Page, base_url: str, found: list[str], visited: set[str], who: str, depth: int = 2) -> None:
    async def on_page(_url: str) -> None:
        await check(page, found, who)

    visited.update(f"{who} {kind}" for kind in await crawl(page, base_url, on_page, depth=depth))


async def test_no_page_of_any_role_has_a_serious_accessibility_violation(system, browser: Browser):
    need_axe()
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    await system.call(DEMO_NOTEBOOKS)
    found: list[str] = []
    visited: set[str] = set()

    context = await browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    answer = await page.goto(f"{system.base_url}/page-qui-n-existe-pas")  # an address no page answers
    assert answer is not None and answer.status == 404
    await check(page, found, "anonyme")
    await page.goto(f"{system.base_url}/connexion")
    await page.get_by_role("button", name="Recevoir mon lien de connexion").click()  # a form showing its error
    await expect(page.get_by_role("alert")).to_be_visible()
    await check(page, found, "anonyme")
    await page.goto(f"{system.base_url}/connexion")
    await audit(page, system.base_url, found, visited, "anonyme", depth=1)
    await context.close()

    # Crawled two at a time: the crawls only read.
    async with every_role_signed_in(browser, system, DEMO_ACCOUNTS, viewport={"width": 1280, "height": 900}) as pages:
        await for_each(pages, lambda signed: audit(signed[1], system.base_url, found, visited, signed[0].role.value))
        # The crawl sees one notebook of each kind, maybe only a public card: a full one too, once she joins it.
        page = next(page for account, page in pages if account.role == Role.professional)
        await page.goto(f"{system.base_url}/carnets/{DEMO_NOTEBOOKS.beneficiaries[0].notebook_id}")
        await page.get_by_label("Oui").check()
        await page.get_by_label("Dispositif d'accompagnement").select_option(label="Professionnel")
        await page.get_by_role("button", name="Se rattacher").click()
        await expect(page.get_by_role("status")).to_have_text("Vous êtes rattaché(e) à ce carnet.")
        await check(page, found, "professional")
        # The error page, as a notebook out of reach shows it.
        answer = await page.goto(f"{system.base_url}/carnets/{uuid4()}")
        assert answer is not None and answer.status == 404
        await check(page, found, "professional")
        # The orientation form once opened (« Orienter »): the crawl sees the notebook page before that.
        page = next(page for account, page in pages if account.role == Role.orientation_manager)
        await page.goto(f"{system.base_url}/carnets/{DEMO_NOTEBOOKS.beneficiaries[0].notebook_id}?orienter=1")
        await expect(page.locator("#or-system")).to_be_attached()
        await check(page, found, "orientation_manager")
        # The search for whom to « Rattacher » on the list (shown past a hundred people, or once searched).
        page = next(page for account, page in pages if account.role == Role.manager)
        await page.goto(f"{system.base_url}/beneficiaires?personne=chevalier")
        await expect(page.locator("#find-person-q")).to_be_attached()
        await check(page, found, "manager")
    assert len(visited) >= 30, visited  # the crawl reached the roles' pages, not only their homes
    assert not found, f"{len(found)} serious or critical accessibility violations:\n" + "\n".join(found)


async def tab_to(page: Page, target: Locator, limit: int = 80) -> None:
    """Presses Tab until `target` has the focus, as a keyboard user would, and checks that the focus shows."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await target.evaluate("e => e === document.activeElement"):
            assert await target.evaluate("e => getComputedStyle(e).outlineStyle") != "none", "focus not visible"
            return
    raise AssertionError(f"{target} not reached with {limit} presses of Tab")


async def test_a_professional_signs_in_and_opens_a_notebook_with_the_keyboard_only(system, browser: Browser):
    need_axe()
    await system.seed(*DEMO_ACCOUNTS, deployments=DEMO_DEPLOYMENTS)
    await system.call(DEMO_TERRITORY)
    await system.call(DEMO_NOTEBOOKS)
    page = await (await browser.new_context(locale="fr-FR")).new_page()
    found: list[str] = []  # axe on the pages of signing in, which the crawls pass before they start
    await page.goto(f"{system.base_url}/connexion")
    await page.keyboard.press("Tab")  # the first stop skips the header
    await expect(page.get_by_role("link", name="Aller au contenu")).to_be_focused()
    await tab_to(page, page.get_by_role("textbox", name="Adresse e-mail"))
    await page.keyboard.type("pro@demo.carnet.test")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_contain_text("un lien de connexion vient d'y être envoyé")

    await page.goto((await newest_message(system, "pro@demo.carnet.test", 1))["links"][0])  # the link in the e-mail
    await check(page, found, "professional")
    await tab_to(page, page.get_by_role("button", name="Continuer sur Carnet de bord"))
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Conditions générales d'utilisation")).to_be_visible()
    await check(page, found, "professional")
    await tab_to(page, page.get_by_label("J'ai lu et j'accepte les conditions générales d'utilisation"))
    await page.keyboard.press("Space")
    await tab_to(page, page.get_by_role("button", name="Valider"))
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name=re.compile("Création de mon compte"))).to_be_visible()
    await check(page, found, "professional")
    await tab_to(page, page.get_by_label("Téléphone"))
    await page.keyboard.type("01 48 12 34 56")
    await tab_to(page, page.get_by_label("Fonction"))
    await page.keyboard.type("Conseillère")
    await tab_to(page, page.get_by_role("button", name="Créer mon compte"))
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_have_text("Votre compte a été créé avec succès.")
    await check(page, found, "professional")
    await tab_to(page, page.get_by_role("link", name="Accéder à mon compte"))
    await page.keyboard.press("Enter")

    await tab_to(page, page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Bénéficiaires"))
    await page.keyboard.press("Enter")
    await tab_to(page, page.get_by_label("Rechercher un bénéficiaire"))
    await page.keyboard.type("tifour")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("link", name="TIFOUR Sophie")).to_be_visible()
    await check(page, found, "professional")
    await tab_to(page, page.get_by_role("link", name="TIFOUR Sophie"))
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Sophie")
    await expect(page.get_by_role("main")).to_contain_text("fiche publique")
    assert not found, "\n".join(found)

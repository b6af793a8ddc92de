"""The pages under a notebook (its contracts, a contract, its exchanges, a new bilan, its territory, its people's
requests) name it in their breadcrumbs by the beneficiary's name, « Bénéficiaires › Carnet de Sophie Tifour », not
a bare « Carnet » that says nothing of whose it is; the beneficiary's own pages say « Mon carnet ». Real NATS, both
databases."""
from __future__ import annotations

import re

import pytest
from carnet.demo import DEMO_NOTEBOOKS
from testkit.system import bearer, sign_in

from tests.e2e.test_notebook import page_with_systems, seed_demo

pytestmark = pytest.mark.e2e

SOPHIE = str(DEMO_NOTEBOOKS.beneficiaries[0].notebook_id)


def breadcrumbs(html: str) -> str:
    found = re.search(r'<nav class="breadcrumb" aria-label="Fil d\'Ariane">(.*?)</nav>', html, flags=re.DOTALL)
    assert found, "no breadcrumbs"
    return found.group(1)


async def test_the_pages_under_a_notebook_name_it_by_its_beneficiary(system):
    await seed_demo(system)
    async with system.client() as client:
        manager = await sign_in(system, client, "manager@demo.carnet.test")
        me = await sign_in(system, client, "beneficiaire@demo.carnet.test")
        pro = await sign_in(system, client, "pro@demo.carnet.test")
        h = bearer(pro)
        page = await page_with_systems(client, pro, SOPHIE)
        joined = await client.post(f"/api/v1/notebooks/{SOPHIE}/members", headers=h, json={
            "as_referent": True, "orientation_system_id": page["my_orientation_systems"][0]["orientation_system_id"]})
        assert joined.status_code == 200, joined.text
        draft = await client.post(f"/api/v1/notebooks/{SOPHIE}/contracts", headers=h, json={})
        assert draft.status_code == 201, draft.text

        link = f'<a href="/carnets/{SOPHIE}">Carnet de Sophie Tifour</a>'
        for path, last in ((f"/carnets/{SOPHIE}/contrats", "Contrats"),
                           (f"/carnets/{SOPHIE}/contrats/{draft.json()['id']}", "Contrat d&#39;Engagement Réciproque"),
                           (f"/carnets/{SOPHIE}/echanges", "Échanges"),
                           (f"/carnets/{SOPHIE}/bilans/nouveau", "Rédiger un bilan")):
            answer = await client.get(path, headers=h)
            assert answer.status_code == 200, (path, answer.text)
            trail = breadcrumbs(answer.text)
            assert '<a href="/beneficiaires">Bénéficiaires</a>' in trail and link in trail, (path, trail)
            assert f'<span aria-current="page">{last}' in trail, (path, trail)
        for path in (f"/carnets/{SOPHIE}/territoire", f"/carnets/{SOPHIE}/demandes-rgpd"):
            answer = await client.get(path, headers=bearer(manager))
            assert answer.status_code == 200, (path, answer.text)
            trail = breadcrumbs(answer.text)
            # Her requests' page knows her name from her requests: none yet, so « Carnet du bénéficiaire ».
            assert (link if path.endswith("territoire")
                    else f'<a href="/carnets/{SOPHIE}">Carnet du bénéficiaire</a>') in trail

        mine = await client.get("/mon-carnet/contrats", headers=bearer(me))
        assert mine.status_code == 200, mine.text
        assert '<a href="/mon-carnet">Mon carnet</a>' in breadcrumbs(mine.text)
        assert "Carnet de" not in breadcrumbs(mine.text)

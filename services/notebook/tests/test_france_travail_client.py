"""France Travail's API client against a local fake France Travail (testkit.france_travail, on 127.0.0.1), never the
real one: the token cached and renewed, 429 honoured, 5xx and timeouts as an unavailability, no dossier, agencies;
and the pure mapping of a dossier onto the notebook's France Travail section."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from notebook.adapters.france_travail import (
    UNAVAILABLE,
    FranceTravailClient,
    FranceTravailConfig,
    FranceTravailUnavailable,
)
from notebook.domain.france_travail import diagnostic_of, fingerprint
from testkit.france_travail import Fault, LocalFranceTravail, diagnostic_argumente
from testkit.infra import free_port

pytestmark = pytest.mark.integration
NIR, BORN = "1900426123456", date(1990, 4, 12)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalFranceTravail]:
    fake = LocalFranceTravail().start()
    yield fake
    fake.stop()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:  # the waits the client asks for, without waiting them
        self.sleeps.append(seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def client_of(server, clock, timeout_s: float) -> FranceTravailClient:
    return FranceTravailClient(FranceTravailConfig(server.url, server.url, server.client_id, server.client_secret,
                                                   timeout_s=timeout_s, max_tries=3, max_retry_after_s=30),
                               sleep=clock.sleep, monotonic=clock.monotonic)


@pytest.fixture
async def client(server, clock):
    server.faults.clear()
    server.calls.clear()
    server.token_requests = 0
    server.revoke_tokens()
    # A generous timeout: on a loaded CI machine the local server may take more than half a second to answer, and
    # only the test of a slow answer is about timeouts.
    ft = client_of(server, clock, timeout_s=10)
    yield ft
    await ft.aclose()


async def test_a_known_person_is_found_by_nir_and_birth_date_and_their_dossier_read(server, client):
    identifiant = server.add_person(NIR, BORN.isoformat(), diagnostic_argumente())

    assert await client.find_individual(NIR, BORN) == identifiant
    assert await client.diagnostic(identifiant) == diagnostic_argumente()
    assert server.calls == ["recherche", "diagnostic"] and server.token_requests == 1  # one token for both


async def test_nobody_or_no_dossier_is_none(server, client):
    assert await client.find_individual("2851175123001", BORN) is None
    without = server.add_person("2851175123002", BORN.isoformat(), None)
    assert await client.find_individual("2851175123002", BORN) == without
    assert await client.diagnostic(without) is None


async def test_429_is_tried_again_after_its_retry_after(server, client, clock):
    identifiant = server.add_person("1900426123457", BORN.isoformat(), diagnostic_argumente())
    server.fail_next(Fault(429, retry_after="2", api="diagnostic"), Fault(429, api="diagnostic"))

    assert await client.diagnostic(identifiant) == diagnostic_argumente()
    assert clock.sleeps == [2.0, 1.0]  # as told, then one second when the header is missing


async def test_429_without_end_is_an_unavailability_after_max_tries(server, client, clock):
    server.fail_next(*(Fault(429, retry_after="1") for _ in range(3)))

    with pytest.raises(FranceTravailUnavailable) as failure:
        await client.find_individual(NIR, BORN)
    assert clock.sleeps == [1.0, 1.0] and failure.value.message == UNAVAILABLE


async def test_a_retry_after_longer_than_we_wait_is_an_unavailability(server, client, clock):
    server.fail_next(Fault(429, retry_after="3600"))

    with pytest.raises(FranceTravailUnavailable):
        await client.find_individual(NIR, BORN)
    assert clock.sleeps == []


@pytest.mark.parametrize("status", [500, 502, 503, 400])
async def test_an_error_of_france_travail_is_an_unavailability(server, client, status):
    server.fail_next(Fault(status))

    with pytest.raises(FranceTravailUnavailable) as failure:
        await client.find_individual(NIR, BORN)
    assert failure.value.message == "France Travail ne répond pas, réessayez plus tard."


async def test_a_slow_answer_is_an_unavailability(server, client, clock):
    impatient = client_of(server, clock, timeout_s=0.5)
    server.fail_next(Fault(delay_s=2))

    with pytest.raises(FranceTravailUnavailable, match="timed out"):
        await impatient.find_individual(NIR, BORN)
    await impatient.aclose()


async def test_a_france_travail_that_is_not_there_is_an_unavailability(clock):
    gone = f"http://127.0.0.1:{free_port()}"
    ft = FranceTravailClient(FranceTravailConfig(gone, gone, "id", "secret", timeout_s=0.5), sleep=clock.sleep)
    with pytest.raises(FranceTravailUnavailable):
        await ft.find_individual(NIR, BORN)
    await ft.aclose()


async def test_wrong_credentials_are_an_unavailability(server, clock):
    ft = FranceTravailClient(FranceTravailConfig(server.url, server.url, server.client_id, "not-the-secret"))
    with pytest.raises(FranceTravailUnavailable, match="access token"):
        await ft.find_individual(NIR, BORN)
    await ft.aclose()


async def test_the_token_is_kept_until_shortly_before_it_expires(server, client, clock):
    server.token_lifetime_s = 600
    try:
        await client.find_individual(NIR, BORN)
        clock.now += 600 - 61  # still more than a minute to live: kept
        await client.find_individual(NIR, BORN)
        assert server.token_requests == 1
        clock.now += 2  # less than a minute: renewed before it is refused
        await client.find_individual(NIR, BORN)
        assert server.token_requests == 2
    finally:
        server.token_lifetime_s = 1499


async def test_a_token_refused_before_its_time_is_renewed_once(server, client):
    await client.find_individual("2851175123009", BORN)
    server.revoke_tokens()

    assert await client.find_individual("2851175123009", BORN) is None
    assert server.token_requests == 2 and server.calls == ["recherche", "recherche"]


async def test_agencies_of_a_department_asked_with_two_digits(server, client):
    server.agencies["08"] = [{"code": "GEP0081", "codeSafir": "08011", "libelle": "CHARLEVILLE",
                              "siret": "13000548100011", "contact": {"email": "ape.08011@francetravail.fr"}}]

    [agency] = await client.agencies("8")
    assert agency["codeSafir"] == "08011"
    assert await client.agencies("26") == []


# --- the mapping (pure) ------------------------------------------------------------------------------------------

def test_the_dossier_shows_the_contraintes_worked_on_their_situations_objectives_and_job_needs():
    diagnostic = diagnostic_of(diagnostic_argumente())

    assert diagnostic.updated_on == date(2024, 3, 12)
    [constraint] = diagnostic.constraints  # the one not discussed is left out
    assert (constraint.label, constraint.value, constraint.noted_on) == ("Développer sa mobilité", "OUI",
                                                                         date(2024, 3, 11))
    assert [s.label for s in constraint.situations] == ["Dépendant des transports en commun"]
    assert [(o.label, o.value) for o in constraint.objectives] == [("Obtenir le permis de conduire", "EN_COURS")]
    [job] = diagnostic.job_needs
    assert (job.job, job.priority, job.updated_on) == ("Aide-soignant / Aide-soignante", True, date(2024, 3, 10))
    assert [(n.label, n.value) for n in job.needs] == [("Savoir-être professionnels", "POINT_FORT"),
                                                      ("Connaissance du métier", "BESOIN")]


@pytest.mark.parametrize("dossier", [
    {}, {"contraintesIndividusDto": None, "besoinsParDiagnosticIndividuDtos": None},
    {"contraintesIndividusDto": {"contraintes": [None, 3, {"valeur": "OUI"}, {"libelle": 5, "valeur": "OUI"}],
                                 "dateDeModification": "pas une date"},
     "besoinsParDiagnosticIndividuDtos": ["x", {"nomMetier": None}, {"nomMetier": "Maçon", "besoins": "x"}]},
])
def test_a_dossier_missing_parts_or_of_odd_types_does_not_break_the_page(dossier):
    diagnostic = diagnostic_of(dossier)
    assert diagnostic.constraints == [] and diagnostic.updated_on is None
    assert [j.job for j in diagnostic.job_needs] == (["Maçon"] if "besoinsParDiagnosticIndividuDtos" in dossier
                                                     and dossier["besoinsParDiagnosticIndividuDtos"] else [])


def test_the_fingerprint_does_not_depend_on_the_order_of_keys():
    dossier = diagnostic_argumente()
    reordered = dict(reversed(list(dossier.items())))
    assert fingerprint(dossier) == fingerprint(reordered)
    assert fingerprint(dossier) != fingerprint(diagnostic_argumente(conseiller="Autre"))

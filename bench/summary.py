"""One table of every benchmark figure with its budget, its baseline from the same run and the ratio between them,
read from results/*.json and written into README.md between the two markers (issue 19 item 8). `make bench` runs it
last; it runs alone too, on whatever results are there (a figure whose result is missing is left out).

    .venv/bin/python bench/summary.py
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
RESULTS = HERE / "results"
README = HERE / "README.md"
START, END = "<!-- figures:start -->", "<!-- figures:end -->"
BACKENDS = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Figure:
    name: str
    backend: str
    measured: float
    unit: str
    budget: str
    within: bool
    baseline: float | None = None
    baseline_name: str = ""
    load: float | None = None  # the 1-minute load average when the run recorded it: a loaded machine says so

    def row(self) -> str:
        ratio = f"{self.measured / self.baseline:.2f}".replace(".", ",") if self.baseline else "—"
        baseline = f"{number(self.baseline)} {self.unit} ({self.baseline_name})" if self.baseline is not None else "—"
        load = f" (charge {self.load:g})" if self.load else ""
        verdict = "oui" if self.within else "**non**"
        return (f"| {self.name} | {self.backend} | {number(self.measured)} {self.unit} | {self.budget} | {baseline} "
                f"| {ratio} | {verdict}{load} |")


def number(value: float) -> str:
    if 0 < abs(value) < 1:  # two significant digits: a tenth of a millisecond rounds to 0,1, ten microseconds not to 0
        return f"{value:.2g}".replace(".", ",")
    return f"{value:,.1f}".replace(",", "\u202f").replace(".", ",").removesuffix(",0")


def worst(section: dict, key: str = "p95_ms") -> float:
    return max(entry[key] for entry in section.values())


def load_of(result: dict) -> float | None:
    machine = result.get("machine")
    return (machine.get("load_1min") if isinstance(machine, dict) else None) or result.get("load_1min")


def annuaire(r: dict, backend: str) -> Iterator[Figure]:
    yield Figure("Annuaire : recherche de personnes, p95 (pire requête)", backend, worst(r["search_people"]), "ms",
                 f"< {r['budget_ms']} ms", worst(r["search_people"]) < r["budget_ms"],
                 r["baseline_get_structure"]["p95_ms"], "lire une structure")


def carnets(r: dict, backend: str) -> Iterator[Figure]:
    budgets, baseline = r["budgets_ms"], r["baseline_empty_rome_query"]["p95_ms"]
    for name, section, budget in (("Recherche ROME, p95 (pire requête)", "rome_search", budgets["rome_p95"]),
                                  ("Recherche de bénéficiaires à 100 000 carnets, p95 (pire requête)",
                                   "beneficiary_search", budgets["search_p95"])):
        measured = worst(r[section])
        yield Figure(name, backend, measured, "ms", f"< {budget} ms", measured < budget, baseline,
                     "requête ROME vide")


def notebook_page(r: dict, backend: str) -> Iterator[Figure]:
    budget = r["budget"]
    ratio_budget = budget.get("throughput_ratio", 2.0)
    baseline = r["baseline_fastapi_sqlalchemy"]["requests_per_s"]
    for name, key in (("Page carnet (JSON), débit", "through_gateway_and_bus"), ("Page carnet (HTML), débit", "html_page")):
        if key in r:
            measured = r[key]["requests_per_s"]
            yield Figure(name, backend, measured, "pages/s", f"≥ {number(ratio_budget)} × la référence",
                         measured >= ratio_budget * baseline, baseline, "FastAPI + SQLAlchemy, un processus", load_of(r))
    if "open_loop" in r:
        p99_budget = budget.get("open_loop_p99_ms", 50)
        measured = r["open_loop"]["p99_ms"]
        yield Figure("Page carnet (JSON), p99 à 100 pages/s (charge ouverte)", backend, measured, "ms",
                     f"< {p99_budget} ms", measured < p99_budget, r.get("baseline_open_loop", {}).get("p99_ms"),
                     "la référence, même charge", load_of(r))


def imports(r: dict, backend: str) -> Iterator[Figure]:
    measured = r["rows_per_s"]["overall"]
    yield Figure(f"Import de {number(r['rows'])} bénéficiaires de bout en bout", backend, measured,
                 "lignes/s", f"≥ {number(r['target_rows_per_s'])} lignes/s", measured >= r["target_rows_per_s"],
                 r["baseline_copy"]["rows_per_s"], "COPY PostgreSQL", load_of(r))


def exports(r: dict, backend: str) -> Iterator[Figure]:
    largest = max(r["worker"], key=lambda run: (run["rows"], run["peak_rss_mib"]))
    baseline = max(r["baseline"], key=lambda run: run["rows"])
    yield Figure(f"Export de {number(largest['rows'])} lignes ({largest['format']}), mémoire au-delà du départ",
                 backend, largest["peak_rss_mib"], "MiB", "plate (≤ 10 MiB)", largest["peak_rss_mib"] <= 10,
        baseline["peak_rss_mib"], "les lignes en liste")


def dashboard(r: dict, backend: str) -> Iterator[Figure]:
    budget = r["budget_ms"]["dashboard_p95"]
    measured = max(r["dashboard"][key]["p95_ms"] for key in ("territory_12_months", "territory_5_years"))
    yield Figure("Tableau de bord d'un territoire à 100 000 carnets, p95", backend, measured, "ms",
                 f"< {budget} ms", measured < budget, r["baseline_count_of_the_facts"]["p95_ms"], "un COUNT(*)")


def events(r: dict, backend: str) -> Iterator[Figure]:
    propagation = r["propagation"]
    yield Figure(f"Propagation d'un événement, p99 à {propagation['rate_per_s']:g}/s demandés "
                 f"({propagation['achieved_rate_per_s']:g}/s écrits)".replace(".", ","), backend, propagation["p99_ms"],
                 "ms", f"< {propagation['budget_p99_ms']} ms", propagation["within_budget"],
                 r["baseline_nats_round_trip"]["p99_ms"], "aller-retour NATS nu", load_of(r))


def startup(r: dict, backend: str) -> Iterator[Figure]:
    yield Figure("Premier `make run`", backend, r["first_start_s"], "s", f"< {r['first_start_budget_s']} s",
                 r["first_start_within_budget"], r["baseline_second_start_s"], "second démarrage", load_of(r))
    rss = max(r["idle_rss_mb"].values())
    yield Figure("Mémoire résidente au repos, service le plus lourd", backend, rss, "MB",
                 f"< {r['idle_rss_budget_mb']} MB", r["idle_rss_within_budget"], r["baseline_stack_rss_mb"],
                 "Python important la pile seule", load_of(r))


# result file stem (without its backend) → its figures
BENCHES: dict[str, Callable[[dict, str], Iterator[Figure]]] = {
    "annuaire": annuaire, "carnets": carnets, "notebook-page": notebook_page, "imports": imports,
    "exports": exports, "dashboard": dashboard, "events": events, "startup": startup,
}


def result_files(stem: str) -> Iterator[tuple[str, Path]]:
    """Each backend's result; for imports, the largest run recorded (imports-postgresql[-ROWS].json)."""
    if stem == "startup":
        if (RESULTS / "startup.json").exists():
            yield "sqlite", RESULTS / "startup.json"
        return
    for backend in BACKENDS:
        candidates = sorted(RESULTS.glob(f"{stem}-{backend}*.json"),
                            key=lambda p: int(m.group(1)) if (m := re.search(r"-(\d+)\.json$", p.name)) else 10**9)
        if candidates:
            yield backend, candidates[-1]


def figures() -> list[Figure]:
    return [figure for stem, extract in BENCHES.items() for backend, path in result_files(stem)
            for figure in extract(json.loads(path.read_text()), backend)]


def table(rows: list[Figure]) -> str:
    head = ["| figure | base | mesuré | budget | référence (même exécution) | rapport | dans le budget |",
            "|---|---|---|---|---|---|---|"]
    return "\n".join(head + [figure.row() for figure in rows])


def main() -> None:
    readme = README.read_text()
    block = f"{START}\n{table(figures())}\n{END}"
    if START in readme:
        readme = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, readme, flags=re.S)
    else:
        readme = readme.replace("\n\n", f"\n\n{block}\n\n", 1)
    README.write_text(readme)
    print(block)


if __name__ == "__main__":
    main()

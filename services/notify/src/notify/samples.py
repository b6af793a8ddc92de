"""Sample data for every template: the dev preview page and the rendering snapshot tests use the same."""
from __future__ import annotations

from contracts.notify import Channel
from notify.rendering import Rendered, render_email, render_sms

BASE = "https://carnet.example.fr"
LINK = f"{BASE}/auth/magic/exemple-de-jeton"
SAMPLES: dict[str, tuple[Channel, dict]] = {
    "login_link": (Channel.email, {"link": LINK, "minutes": 15}),
    "invitation": (Channel.email, {"link": LINK, "firstname": "Élodie", "invited_by": "Agathe Deblouze",
                                   "login_url": f"{BASE}/connexion", "days": 7}),
    "signup_confirmed": (Channel.email, {"link": LINK, "firstname": "Nadia", "invited_by": "Agathe Deblouze",
                                         "login_url": f"{BASE}/connexion", "days": 7}),
    "email_change": (Channel.email, {"link": f"{BASE}/compte/email/exemple-de-jeton", "firstname": "Élodie",
                                     "hours": 24}),
    "signup_requested": (Channel.email, {"link": f"{BASE}/comptes?statut=pending", "firstname": "Nadia",
                                         "lastname": "Nouvelle", "email": "nadia.nouvelle@asso.fr",
                                         "structure": "Association Tremplin"}),
    "account_deactivated": (Channel.email, {"firstname": "Paul"}),
    "sms_code": (Channel.sms, {"code": "482913", "minutes": 10}),
    "notebook_invitation": (Channel.email, {"link": f"{BASE}/carnets/exemple", "firstname": "Paul",
                                            "invited_by": "Pierre Chevalier"}),
    "referent_replaced": (Channel.email, {"link": f"{BASE}/carnets/exemple", "firstname": "Simon",
                                          "referent": "Pierre Chevalier"}),
    "appointment_booked": (Channel.sms, {"when": "01/12/2026 à 15:45", "with_name": "Pierre Chevalier",
                                         "structure": "CCAS de Livry-Gargan"}),
    "appointment_reminder": (Channel.sms, {"when": "à 15:45", "with_name": "Pierre Chevalier",
                                           "structure": "CCAS de Livry-Gargan"}),
    "appointment_reminder_email": (Channel.email, {"link": f"{BASE}/mon-carnet", "when": "à 15:45",
                                                   "with_name": "Pierre Chevalier",
                                                   "structure": "CCAS de Livry-Gargan"}),
    "waiting_digest": (Channel.email, {"link": f"{BASE}/beneficiaires?support=waiting", "firstname": "Jacques",
                                       "structures": [{"name": "CCAS de Livry-Gargan", "waiting": 3},
                                                      {"name": "Groupe NS", "waiting": 1}]}),
    "appointment_booked_email": (Channel.email, {"link": f"{BASE}/mon-carnet", "when": "01/12/2026 à 15:45",
                                                 "with_name": "Pierre Chevalier", "structure": "CCAS de Livry-Gargan"}),
    "bulk_orientation": (Channel.email, {"link": f"{BASE}/beneficiaires?mine=1", "firstname": "Simon",
                                         "decided_by": "Giulia Diaby", "count": 42, "orientation_system": "Social",
                                         "structure": "Groupe NS"}),
    "orientation_changed": (Channel.email, {"link": f"{BASE}/carnets/exemple", "firstname": "Simon",
                                            "reorientation": True, "orientation_system": "Social",
                                            "structure": "Groupe NS"}),
    "reorientation_denied": (Channel.email, {"link": f"{BASE}/carnets/exemple", "firstname": "Pierre"}),
    "daily_digest": (Channel.email, {"link": f"{BASE}/carnets/exemple", "preferences": f"{BASE}/compte",
                                     "items": [{"subject": "Invitation à rejoindre un carnet de bord",
                                                "link": f"{BASE}/carnets/exemple"},
                                               {"subject": "Changement de référent sur un carnet de bord",
                                                "link": f"{BASE}/carnets/autre"}]}),
    "caf_msa_report": (Channel.email, {"link": f"{BASE}/imports/exemple", "date": "05/03/2022", "failed": False,
                                       "filename": "RSABEM.xml", "reason": "", "total": 120, "updated": 31,
                                       "unchanged": 52, "not_found": 36, "errors": 1, "excluded": 0}),
    "contract_created": (Channel.email, {"link": f"{BASE}/mon-carnet/contrats/exemple", "firstname": "Sophie"}),
    "contract_submitted": (Channel.email, {"link": f"{BASE}/carnets/exemple/contrats/exemple"}),
    "contract_validated": (Channel.email, {"link": f"{BASE}/mon-carnet/contrats/exemple", "firstname": "Sophie",
                                           "decided_on": "01/12/2026"}),
    "contract_returned": (Channel.email, {"link": f"{BASE}/carnets/exemple/contrats/exemple", "firstname": "Pierre"}),
    "contract_signed": (Channel.email, {"link": f"{BASE}/carnets/exemple/contrats/exemple", "firstname": "Pierre",
                                        "in_person": False, "start_date": "01/12/2026", "end_date": "31/05/2027"}),
    "contract_ended": (Channel.email, {"link": f"{BASE}/mon-carnet/contrats", "firstname": "Sophie",
                                       "renewed": False, "ended_on": "31/05/2027"}),
    "contract_ending": (Channel.email, {"link": f"{BASE}/carnets/exemple/contrats/exemple", "firstname": "Pierre",
                                        "end_date": "31/05/2027"}),
    "exchange_mention": (Channel.email, {"link": f"{BASE}/carnets/exemple/echanges#echange-exemple",
                                         "firstname": "Pierre", "author": "Simon Anka", "question": True}),
    "bilan_created": (Channel.email, {"link": f"{BASE}/mon-carnet/bilans/exemple", "firstname": "Sophie",
                                      "author": "Pierre Chevalier", "bilan_date": "01/12/2026"}),
    "transfer_requested": (Channel.email, {"link": f"{BASE}/transferts", "from_label": "Seine-Saint-Denis",
                                           "to_label": "Isère"}),
    "transfer_accepted": (Channel.email, {"link": f"{BASE}/mon-carnet", "firstname": "Sophie",
                                          "from_label": "Seine-Saint-Denis", "to_label": "Isère"}),
    "transfer_refused": (Channel.email, {"link": f"{BASE}/transferts", "to_label": "Isère"}),
    "referral_granted": (Channel.email, {"link": f"{BASE}/carnets/exemple", "firstname": "Simon",
                                         "territory_label": "Seine-Saint-Denis", "until": "31/01/2027"}),
    "webhook_paused": (Channel.email, {"link": f"{BASE}/webhooks", "label": "Logiciel RDV du département",
                                       "url": "https://rdv.example.fr/carnet", "since": "01/12/2026 à 15:45"}),
}


def render_sample(name: str) -> Rendered:
    channel, context = SAMPLES[name]
    if channel == Channel.sms:
        return render_sms(name, **context)
    return render_email(name, links=[context["link"]] if "link" in context else [], **context)

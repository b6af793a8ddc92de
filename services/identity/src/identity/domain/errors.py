"""Refusals of the identity domain, in the words a user reads."""
from servicekit.errors import Invalid, NotFound, RateLimited, Unauthenticated

LINK_NOT_VALID = (
    "Ce lien de connexion n'est plus valide : il a déjà servi ou il a expiré. "
    "Demandez un nouveau lien depuis la page de connexion."
)
SESSION_NOT_VALID = "Votre session a expiré. Reconnectez-vous."
TOO_MANY_REQUESTS = "Trop de tentatives de connexion. Patientez quelques minutes avant de réessayer."
INVALID_EMAIL = "Cette adresse e-mail n'est pas valide. Vérifiez qu'elle a la forme prenom.nom@exemple.fr."
DEV_ONLY = "Cette opération n'existe qu'en mode développement."

__all__ = ["Invalid", "NotFound", "RateLimited", "Unauthenticated", "LINK_NOT_VALID", "SESSION_NOT_VALID",
           "TOO_MANY_REQUESTS", "INVALID_EMAIL", "DEV_ONLY"]

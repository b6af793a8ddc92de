"""Refusals of the identity domain, in the words a user reads."""
from servicekit.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited, Unauthenticated

LINK_NOT_VALID = (
    "Ce lien de connexion n'est plus valide : il a déjà servi ou il a expiré. "
    "Demandez un nouveau lien depuis la page de connexion."
)
EMAIL_LINK_NOT_VALID = (
    "Ce lien de vérification n'est plus valide : il a déjà servi ou il a expiré. "
    "Refaites la demande de changement d'adresse depuis « Mon compte »."
)
SESSION_NOT_VALID = "Votre session a expiré. Reconnectez-vous."
ACCOUNT_DEACTIVATED = (
    "Votre compte a été désactivé. Si vous pensez que c'est une erreur, contactez le gestionnaire de votre territoire."
)
TOO_MANY_REQUESTS = "Trop de tentatives de connexion. Patientez quelques minutes avant de réessayer."
INVALID_EMAIL = "Cette adresse e-mail n'est pas valide. Vérifiez qu'elle a la forme prenom.nom@exemple.fr."
INVALID_PHONE = "Ce numéro de téléphone n'est pas valide. Saisissez un numéro français, par exemple 06 12 34 56 78."
NOT_A_MOBILE = "Ce numéro n'est pas un numéro de portable : le code ne peut être envoyé que par SMS à un portable."
CODE_NOT_VALID = (
    "Ce code n'est pas valide ou a expiré. Vérifiez le code reçu par SMS, ou demandez-en un nouveau."
)
DEV_ONLY = "Cette opération n'existe qu'en mode développement."
CGU_OUTDATED = "Les conditions générales ont changé entre-temps : relisez la nouvelle version et acceptez-la."
NAME_REQUIRED = "Le prénom et le nom sont obligatoires."
EMAIL_TAKEN = "Cette adresse e-mail est déjà utilisée par un autre compte."
ADMINISTRATOR_EMAIL_TAKEN = (
    "Cette adresse e-mail est celle d'un compte qui n'est pas administrateur : choisissez une autre adresse."
)
ACCOUNT_NOT_FOUND = "Ce compte n'existe pas ou vous n'avez pas le droit de le gérer."
NOT_ALLOWED = "Vous n'avez pas le droit de faire cette opération."
WRONG_STATE = {
    "confirm": "Ce compte n'est pas une demande en attente : il n'y a rien à valider.",
    "deactivate": "Ce compte est déjà désactivé.",
    "reactivate": "Ce compte n'est pas désactivé.",
    "resend_invitation": "On ne peut envoyer un lien de connexion qu'à un compte actif qui a une adresse e-mail.",
}
UNKNOWN_DEPLOYMENT = "Ce territoire n'existe pas sur Carnet de bord. Choisissez-le dans la liste."
STRUCTURE_REQUIRED = "Indiquez le nom de votre structure."
OIDC_DISABLED = "La connexion par fournisseur d'identité n'est pas proposée sur ce service."
OIDC_FAILED = "La connexion par {provider} n'a pas abouti. Réessayez, ou recevez un lien de connexion par e-mail."
OIDC_NO_ACCOUNT = (
    "Aucun compte professionnel actif n'est rattaché à l'adresse {email}. "
    "Demandez à votre structure ou au gestionnaire de votre territoire de vous inviter."
)

__all__ = ["Conflict", "Forbidden", "Invalid", "NotFound", "RateLimited", "Unauthenticated"]

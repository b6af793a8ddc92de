"""Wire contracts of Carnet de bord: every message crossing NATS is a model declared here."""

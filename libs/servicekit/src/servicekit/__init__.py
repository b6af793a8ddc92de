"""Shared plumbing of Carnet de bord services. Business rules never live here."""

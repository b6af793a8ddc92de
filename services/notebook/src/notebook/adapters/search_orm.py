"""The beneficiaries' list and search read one narrow row per notebook (issue 19): its territory, the names it is
sorted by, the text it is searched in and the droits et devoirs flag — a few dozen bytes instead of the
beneficiary's wide row, so that sorting the 10,000 notebooks a common surname matches stays cheap.

The database keeps it, never this code: migration 0023's triggers copy the beneficiary's columns when a notebook is
inserted, when those columns change and when a notebook is deleted, in the writer's own transaction, whatever the
writer (the ORM, the imports' bulk inserts, a migration). Its text index is the SQLite FTS5 trigram table
``notebook_search_fts`` (whose rowids are ``id``: an explicit integer key, which VACUUM keeps) or the PostgreSQL
``pg_trgm`` index ``ix_notebook_search_trgm``; neither is declared here (each exists on one backend only)."""
from __future__ import annotations

import uuid

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from notebook.adapters.orm import Base


class NotebookSearch(Base):
    __tablename__ = "notebook_search"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notebook_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    beneficiary_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    deployment_id: Mapped[uuid.UUID]  # the beneficiary's, as the list always filtered on
    lastname: Mapped[str] = mapped_column(String(120))
    firstname: Mapped[str] = mapped_column(String(120))
    search_text: Mapped[str] = mapped_column(Text)
    subject_to_right_and_duty: Mapped[bool] = mapped_column(Boolean)

    # The lists' order (name, then notebook), read from the index without a sort when nothing narrows them.
    __table_args__ = (Index("ix_notebook_search_order", "deployment_id", "lastname", "firstname", "notebook_id"),)

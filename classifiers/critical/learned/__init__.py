"""The learned backstop of the ``critical_illness`` check (see MODEL_CARD.md)."""

"""The learned backstop of the ``risky_intent`` check (see MODEL_CARD.md)."""

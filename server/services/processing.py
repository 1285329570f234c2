"""Processing of submitted records."""

from __future__ import annotations


def process_record(*, user_id: int, item_id: int, quantity: int) -> dict[str, int]:
    """Return the processed record: the quantity doubled, the ids unchanged."""
    return {"user_id": user_id, "item_id": item_id, "quantity": quantity * 2}

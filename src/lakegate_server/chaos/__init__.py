"""``lakegate chaos``: fault injection against a scratch project (engine, probe, invariants)."""

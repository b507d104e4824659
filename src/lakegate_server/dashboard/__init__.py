"""The web dashboard at ``/``: runs, datasets, quarantine and tokens for logged-in users."""

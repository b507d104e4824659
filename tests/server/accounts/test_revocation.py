"""The token table's generation, as each web process sees it (``accounts.revocation``)."""

from __future__ import annotations

import pytest
from django.conf import settings

from lakegate_server.accounts.models import ApiToken
from lakegate_server.accounts.revocation import RevocationWatch, tokens_changed
from lakegate_server.accounts.services import token_create, token_revoke


def test_the_generation_changes_when_the_shared_counter_does_and_only_then(tmp_path):
    marker = tmp_path / "tokens.changed"
    watch = RevocationWatch(marker=marker)
    assert marker.stat().st_size == 8, "made on first use"
    before = watch.generation()
    assert watch.generation() == before
    with marker.open("r+b") as handle:  # what another process's tokens_changed() does
        handle.write((1).to_bytes(8, "little"))
    after = watch.generation()
    assert after != before, "seen through the shared mapping, with no call of its own"
    assert watch.generation() == after


def test_without_a_redis_listener_every_call_is_a_new_generation(tmp_path):
    watch = RevocationWatch(marker=tmp_path / "m", redis_url="redis://127.0.0.1:1/0")
    assert not watch.listening
    assert watch.generation() != watch.generation()


@pytest.mark.django_db(transaction=True)
def test_committed_token_changes_replace_the_marker_and_creations_do_not():
    watch = RevocationWatch(marker=settings.LAKEGATE.paths.state / "tokens.changed")
    before = watch.generation()
    issued = token_create(name="t", role="viewer")
    assert watch.generation() == before, "a new token is in no cache: nothing to drop"
    token_revoke(token_id=issued.token.pk)
    after_revoke = watch.generation()
    assert after_revoke != before
    token_revoke(token_id=issued.token.pk)  # already revoked: no change
    assert watch.generation() == after_revoke
    ApiToken.objects.filter(pk=issued.token.pk).delete()
    assert watch.generation() != after_revoke


def test_tokens_changed_counts_in_place():
    marker = settings.LAKEGATE.paths.state / "tokens.changed"
    tokens_changed()
    inode, first = marker.stat().st_ino, int.from_bytes(marker.read_bytes(), "little")
    tokens_changed()
    assert int.from_bytes(marker.read_bytes(), "little") == first + 1
    assert marker.stat().st_ino == inode, "written in place: every mapping sees it"

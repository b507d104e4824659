"""The token table's generation, as each web process sees it (``accounts.revocation``)."""

from __future__ import annotations

import pytest
from django.conf import settings

from lakegate_server.accounts.models import ApiToken
from lakegate_server.accounts.revocation import RevocationWatch, tokens_changed
from lakegate_server.accounts.services import token_create, token_revoke


def test_the_generation_changes_when_the_marker_is_replaced_and_only_then(tmp_path):
    marker = tmp_path / "tokens.changed"
    watch = RevocationWatch(marker=marker)
    nothing_yet = watch.generation()
    assert nothing_yet == watch.generation()
    marker.write_text("1")
    first = watch.generation()
    assert first != nothing_yet
    assert watch.generation() == first
    replacement = tmp_path / "next"
    replacement.write_text("1")  # same content: the new inode is what counts
    replacement.replace(marker)
    assert watch.generation() != first


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


def test_tokens_changed_leaves_no_temporary_files():
    tokens_changed()
    state = settings.LAKEGATE.paths.state
    assert (state / "tokens.changed").is_file()
    assert not list(state.glob(".tokens.changed.*"))

"""Failed logins and bad API tokens are throttled per client address (and per username).

Counts live in the database, so every web process counts into the same rows: the lean routes
and the Django routes below are separate code paths that must add up.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from lakegate_server.accounts.models import FailureCount
from lakegate_server.accounts.services import token_create, user_create
from lakegate_server.accounts.throttle import Keys, login_keys, throttle_fail, throttle_wait, token_keys
from tests.server.serving.test_request_limits import app, portal, send  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct-horse-battery"


@pytest.fixture
def ann(settings) -> User:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return user_create(username="ann", password=PASSWORD, role="viewer")


def login(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_sixty_wrong_passwords_in_a_row_are_cut_off_after_the_limit(ann, settings):
    limit = settings.LAKEGATE.web.login_failure_limit
    client = Client()
    statuses = [login(client, "ann", f"wrong-{i}").status_code for i in range(60)]
    assert statuses[:limit] == [200] * limit, "each of the first ones is an ordinary failed login"
    assert statuses[limit:] == [429] * (60 - limit)
    refused = login(client, "ann", PASSWORD)
    assert refused.status_code == 429, "while blocked, even the right password is refused"
    window = settings.LAKEGATE.web.failure_window_seconds
    assert 0 < int(refused["Retry-After"]) <= window
    page = refused.content.decode()
    assert "too many failed logins; try again in" in page
    assert 'name="username"' in page, "the login form is still shown"
    assert FailureCount.objects.get(key="login-user:ann").count == 0  # reset when the block began
    assert not Client().get("/").wsgi_request.user.is_authenticated


def test_a_username_is_blocked_from_every_address_and_an_address_for_every_username(ann, settings):
    limit = settings.LAKEGATE.web.login_failure_limit
    for i in range(limit):  # each from a different address: only the username's count fills up
        login(Client(), "ann", "wrong", address=f"10.0.1.{i}")
    assert login(Client(), "ann", PASSWORD, address="10.9.9.9").status_code == 429
    user_create(username="bob", password=PASSWORD, role="viewer")
    assert login(Client(), "bob", PASSWORD, address="10.0.1.1")["Location"] == "/", "others still log in"
    for i in range(limit):  # one address trying many usernames
        login(Client(), f"user-{i}", "wrong", address="10.0.2.2")
    assert login(Client(), "bob", PASSWORD, address="10.0.2.2").status_code == 429


def test_the_block_ends_with_its_window_and_a_success_clears_the_username(ann, settings):
    limit = settings.LAKEGATE.web.login_failure_limit
    for _ in range(limit - 1):
        login(Client(), "ann", "wrong")
    assert login(Client(), "ann", PASSWORD)["Location"] == "/"
    assert not FailureCount.objects.filter(key="login-user:ann").exists()
    for _ in range(limit):
        login(Client(), "ann", "wrong", address="10.0.3.3")
    assert login(Client(), "ann", PASSWORD, address="10.0.3.4").status_code == 429
    FailureCount.objects.update(blocked_until=timezone.now() - timedelta(seconds=1))  # the window passed
    assert login(Client(), "ann", PASSWORD, address="10.0.3.4")["Location"] == "/"


def test_the_admin_login_is_throttled_too(ann, settings):
    limit = settings.LAKEGATE.web.login_failure_limit
    client = Client()
    for _ in range(limit):
        client.post("/admin/login/", {"username": "ann", "password": "wrong"}, REMOTE_ADDR="10.0.4.4")
    refused = client.post("/admin/login/", {"username": "ann", "password": "wrong"}, REMOTE_ADDR="10.0.4.4")
    assert refused.status_code == 429
    assert "Retry-After" in refused


def test_bad_tokens_get_429_after_the_limit_and_a_good_token_still_works(api, settings):
    limit = settings.LAKEGATE.web.token_failure_limit
    bad = Client()
    headers = {"Authorization": "Bearer lg_000000000000_not-a-secret"}
    statuses = [
        bad.get("/api/v1/runs", headers=headers, REMOTE_ADDR="10.1.0.1").status_code for _ in range(60)
    ]
    assert statuses[: limit - 1] == [401] * (limit - 1)
    assert statuses[limit - 1 :] == [429] * (60 - limit + 1)
    refused = bad.get("/api/v1/runs", headers=headers, REMOTE_ADDR="10.1.0.1")
    error = refused.json()["error"]
    assert (error["code"], set(error["detail"])) == ("throttled", {"retry_after"})
    assert refused["Retry-After"] == str(error["detail"]["retry_after"])
    good = {"Authorization": f"Bearer {token_create(name='ci', role='viewer').raw}"}
    assert Client().get("/api/v1/runs", headers=good, REMOTE_ADDR="10.1.0.1").status_code == 200
    assert bad.get("/api/v1/runs", headers=headers, REMOTE_ADDR="10.1.0.2").status_code == 401


def test_the_lean_routes_count_into_the_same_rows(portal, app, settings):  # noqa: F811
    """Bad tokens on the lean route and on Django from one address add up to one block."""
    limit = settings.LAKEGATE.web.token_failure_limit
    headers = {"Authorization": "Bearer lg_000000000000_nope"}
    half = limit // 2
    for _ in range(half):  # httpx's ASGI transport calls the client 127.0.0.1
        response = send(portal, app, "POST", "/api/v1/models/churn/predict", json={}, headers=headers)
        assert response.status_code == 401
    for _ in range(limit - half - 1):
        assert Client().get("/api/v1/runs", headers=headers, REMOTE_ADDR="127.0.0.1").status_code == 401
    response = send(portal, app, "POST", "/api/v1/streams/events/records", json=[], headers=headers)
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["error"]["code"] == "throttled"
    again = send(portal, app, "POST", "/api/v1/models/churn/predict", json={}, headers=headers)
    assert again.status_code == 429, "remembered in this process: no database write per refusal"
    good = {"Authorization": f"Bearer {token_create(name='lean', role='viewer').raw}"}
    answer = send(portal, app, "POST", "/api/v1/models/churn/predict", json={}, headers=good)
    assert answer.status_code == 404, "a valid token is served (the model does not exist)"


def test_counting_is_exact_and_old_rows_go(settings):
    keys = Keys(names=("t:a", "t:b"), limit=3, window=60)
    assert [throttle_fail(keys) for _ in range(2)] == [None, None]
    assert throttle_wait(keys) is None
    wait = throttle_fail(keys)
    assert wait is not None
    assert 59 <= wait <= 60
    assert throttle_wait(keys) == wait
    assert throttle_wait(Keys(names=("t:a",), limit=3, window=60)) == wait
    assert throttle_fail(keys) == wait, "no more counting while blocked"
    old = timezone.now() - timedelta(days=2)
    FailureCount.objects.create(key="t:old", count=1, window_started_at=old)
    FailureCount.objects.filter(key="t:old").update(updated_at=old)
    throttle_fail(Keys(names=("t:c",), limit=3, window=60))
    assert not FailureCount.objects.filter(key="t:old").exists()
    assert FailureCount.objects.filter(key="t:a").exists(), "a blocking row stays"


def test_keys_name_the_address_and_the_username(settings):
    keys = login_keys(address="10.0.0.1", username=" Ann ")
    assert keys.names == ("login-ip:10.0.0.1", "login-user:ann")
    assert login_keys(address=None, username="").names == ("login-ip:unknown",)
    assert token_keys(address="::1").names == ("token-ip:::1",)
    assert token_keys(address="::1").limit == settings.LAKEGATE.web.token_failure_limit

"""Logging in and out with Django auth; every page needs a login."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.server.dashboard.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_login_page_has_labelled_fields(db):
    page = Client().get("/login/").content.decode()
    assert '<label for="id_username">Username</label>' in page
    assert '<label for="id_password">Password</label>' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert "Tokens</a>" not in page


def test_a_login_goes_back_to_the_page_asked_for(users):
    client = Client()
    assert client.get("/runs/")["Location"] == "/login/?next=/runs/"
    wrong = client.post("/login/", {"username": "viewer-person", "password": "nope", "next": "/runs/"})
    assert wrong.status_code == 200
    assert "Please enter a correct username and password" in wrong.content.decode()
    right = client.post("/login/", {"username": "viewer-person", "password": PASSWORD, "next": "/runs/"})
    assert right["Location"] == "/runs/"
    assert client.get("/runs/").status_code == 200
    assert client.get("/login/")["Location"] == "/", "a logged-in user skips the login page"


def test_logout_is_a_post_and_ends_the_session(browse):
    client = browse("viewer")
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/")["Location"] == "/login/"
    assert client.get("/")["Location"] == "/login/?next=/"


def test_a_login_without_a_role_is_told_why(browse):
    response = browse("stranger").get("/")
    assert response.status_code == 403
    assert "your login has no dashboard role; ask an admin for one" in response.content.decode()


def test_a_lower_role_is_told_which_role_it_needs(browse):
    response = browse("editor").get("/tokens/")
    assert "this needs the admin role; you are editor" in response.content.decode()

"""A console session names a person and the admin key they signed in with, and ends when that key is removed."""

from __future__ import annotations

from datetime import datetime, timezone

from starlette.testclient import TestClient

from guard import Guard, GuardConfig
from guard.adapters.server.app import create_app
from guard.config import key_digest
from guard.store import open_store
from guard.store.models import ReviewItem

ANA_KEY, BEN_KEY = "console-key-of-ana-0001", "console-key-of-ben-0001"
SECRET = "a-console-secret-shared-by-workers"


def console(tmp_path, *admin: tuple[str, str]) -> TestClient:
    """The console of a server whose admin keys are ``admin`` (name, key); one secret, as after a restart."""
    config = GuardConfig(telemetry={"database": str(tmp_path / "guard.db")},
                         server={"keys": [{"name": name, "digest": key_digest(key), "admin": True} for name, key in admin],
                                 "console_secret": SECRET, "warm_up": False})
    return TestClient(create_app(Guard(config), config), base_url="https://testserver")


def signed_in(client: TestClient, key: str, name: str = "Ana") -> str:
    response = client.post("/console/login", data={"name": name, "key": key}, follow_redirects=False)
    assert response.status_code == 303
    return response.cookies["guard_console"]


def test_the_console_says_who_signed_in_with_which_key(tmp_path):
    with console(tmp_path, ("ops-ana", ANA_KEY)) as client:
        signed_in(client, ANA_KEY)

        page = client.get("/console/")

    assert page.status_code == 200 and "Ana" in page.text and "ops-ana" in page.text


def test_a_session_outlives_a_restart_while_its_key_is_still_configured(tmp_path):
    with console(tmp_path, ("ops-ana", ANA_KEY), ("ops-ben", BEN_KEY)) as before:
        cookie = signed_in(before, ANA_KEY)

    with console(tmp_path, ("ops-ana", ANA_KEY)) as after:
        after.cookies.set("guard_console", cookie)
        page = after.get("/console/", follow_redirects=False)

    assert page.status_code == 200


def test_removing_the_admin_key_ends_the_sessions_it_opened(tmp_path):
    with console(tmp_path, ("ops-ana", ANA_KEY), ("ops-ben", BEN_KEY)) as before:
        cookie = signed_in(before, ANA_KEY)

    with console(tmp_path, ("ops-ben", BEN_KEY)) as after:
        after.cookies.set("guard_console", cookie)
        page = after.get("/console/", follow_redirects=False)

    assert page.status_code == 303 and page.headers["location"].endswith("/console/login")


def test_a_new_key_under_the_old_name_does_not_inherit_its_sessions(tmp_path):
    with console(tmp_path, ("ops-ana", ANA_KEY)) as before:
        cookie = signed_in(before, ANA_KEY)

    with console(tmp_path, ("ops-ana", BEN_KEY)) as rotated:
        rotated.cookies.set("guard_console", cookie)
        page = rotated.get("/console/", follow_redirects=False)

    assert page.status_code == 303


def test_a_decision_in_the_console_names_the_person_and_the_key(tmp_path):
    guard_store = open_store(str(tmp_path / "guard.db"))
    with console(tmp_path, ("ops-ana", ANA_KEY)) as client:
        signed_in(client, ANA_KEY)
        guard_store.submit_review(ReviewItem(id="rv_1", request_id="gr_1", created_at=datetime.now(timezone.utc),
                                             policy="flag", tier="low", draft="Ninety days."))
        form = client.get("/console/items/rv_1").text
        csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        client.post("/console/items/rv_1", data={"csrf": csrf, "action": "approve"}, follow_redirects=False)

    assert guard_store.get_review("rv_1").reviewer == "Ana (ops-ana)"
    guard_store.close()


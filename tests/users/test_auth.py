"""Login, tokens, revocation and rate limits."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import secrets
from typing import TYPE_CHECKING

import httpx
import jwt
import pytest

from meeting.app import create_app
from meeting.users.models import GlobalRole, User
from meeting.users.security import AUDIENCE, ISSUER
from meeting.users.service import ADDRESS_LIMIT_FACTOR
from tests.support.api import PASSWORD, PASSWORD_HASH
from tests.support.backends import BROKER_BACKENDS, TEST_REDIS_URL
from tests.support.servers import serve_in_process

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.settings import Settings
    from tests.support.api import Api


async def test_login_returns_bearer_token_and_user(api: Api) -> None:
    await api.user("thuha", GlobalRole.secretary)
    response = await api.client.post("/api/auth/login", json={"username": "thuha", "password": PASSWORD})
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "bearer"
    assert 0 < body["expires_in"] <= 12 * 3600
    assert body["user"]["username"] == "thuha"
    assert body["user"]["role"] == "secretary"
    assert "meeting_session" in response.cookies
    assert "httponly" in response.headers["set-cookie"].lower()
    me = await api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["username"] == "thuha"


async def test_wrong_password_and_unknown_user_get_the_same_401(api: Api) -> None:
    wrong = await api.client.post("/api/auth/login", json={"username": "admin", "password": "nope"})
    unknown = await api.client.post("/api/auth/login", json={"username": "ghost", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "status": 401,
            "code": "auth.wrong_login",
            "detail": "wrong username or password",
        }
    )


async def test_disabled_user_cannot_log_in(api: Api) -> None:
    user_id = await api.user("old")
    await api.ok("PATCH", f"/api/users/{user_id}", "admin", json={"isActive": False})
    response = await api.client.post("/api/auth/login", json={"username": "old", "password": PASSWORD})
    assert response.status_code == 401


def _forge(settings: Settings, key: str | None = None, algorithm: str = "HS256", **overrides: object) -> str:
    now = dt.datetime.now(dt.UTC)
    claims: dict[str, object] = {
        "sub": "1",
        "ver": 0,
        "jti": "forged",
        "iat": now,
        "exp": now + dt.timedelta(hours=1),
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key or settings.resolved_secret_key(), algorithm=algorithm)


def _alg_none(settings: Settings) -> str:
    valid = _forge(settings)
    _, payload, _ = valid.split(".")
    header = (
        base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    )
    return f"{header}.{payload}."


def _tampered(settings: Settings) -> str:
    header, _, signature = _forge(settings).split(".")
    payload = base64.urlsafe_b64encode(json.dumps({"sub": "2", "ver": 0, "jti": "x"}).encode()).rstrip(b"=")
    return f"{header}.{payload.decode()}.{signature}"


@pytest.mark.parametrize(
    ("make_token", "expected"),
    [
        # The admin (user 1, token version 0) forged with the right key is accepted: the attacks below
        # differ from it in one respect each.
        pytest.param(lambda s: _forge(s), 200, id="control-valid"),
        pytest.param(
            lambda s: _forge(s, exp=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)), 401, id="expired"
        ),
        pytest.param(_tampered, 401, id="tampered"),
        pytest.param(_alg_none, 401, id="alg-none"),
        pytest.param(
            lambda s: _forge(s, key="another-key-entirely-of-enough-length-1234"), 401, id="wrong-key"
        ),
        pytest.param(lambda s: _forge(s, algorithm="HS512"), 401, id="other-algorithm"),
        pytest.param(lambda s: _forge(s, iss="someone-else"), 401, id="wrong-issuer"),
        pytest.param(lambda s: _forge(s, aud="another-app"), 401, id="wrong-audience"),
        pytest.param(lambda s: _forge(s, exp=None), 401, id="no-expiry"),
        pytest.param(lambda s: _forge(s, ver=1), 401, id="old-token-version"),
        pytest.param(lambda s: "not-a-jwt", 401, id="garbage"),
    ],
)
async def test_forged_and_broken_tokens_are_refused(
    api: Api, settings: Settings, make_token: Callable[[Settings], str], expected: int
) -> None:
    token = make_token(settings)
    response = await api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == expected, response.text
    if expected == 401:
        assert response.json()["status"] == 401


async def test_missing_token_is_401_with_json(api: Api) -> None:
    response = await api.client.get("/api/meetings")
    assert response.status_code == 401
    assert "log in" in response.json()["detail"]


async def test_logout_revokes_the_token_at_once(api: Api) -> None:
    await api.user("delegate")
    await api.ok("POST", "/api/auth/logout", "delegate")
    response = await api.call("GET", "/api/auth/me", "delegate")
    assert response.status_code == 401


async def test_disabling_a_user_ends_issued_tokens(api: Api) -> None:
    user_id = await api.user("leaving")
    assert (await api.call("GET", "/api/auth/me", "leaving")).status_code == 200
    await api.ok("PATCH", f"/api/users/{user_id}", "admin", json={"isActive": False})
    assert (await api.call("GET", "/api/auth/me", "leaving")).status_code == 401


async def test_role_change_ends_issued_tokens(api: Api) -> None:
    user_id = await api.user("promoted")
    await api.ok("PATCH", f"/api/users/{user_id}", "admin", json={"role": "secretary"})
    assert (await api.call("GET", "/api/auth/me", "promoted")).status_code == 401
    again = await api.client.post("/api/auth/login", json={"username": "promoted", "password": PASSWORD})
    assert again.json()["user"]["role"] == "secretary"


async def test_session_cookie_authenticates_reads_but_not_writes(api: Api) -> None:
    await api.user("secretary", GlobalRole.secretary)
    login = await api.client.post("/api/auth/login", json={"username": "secretary", "password": PASSWORD})
    assert login.status_code == 200
    # A browser-session cookie: it authenticates the room socket, so it ends with the browser.
    attributes = login.headers["set-cookie"].lower()
    assert "httponly" in attributes and "samesite=strict" in attributes
    assert "max-age" not in attributes and "expires" not in attributes
    # The client now holds the HttpOnly cookie; no Authorization header below.
    assert (await api.client.get("/api/auth/me")).json()["username"] == "secretary"
    write = await api.client.post(
        "/api/meetings",
        json={"title": "x", "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2026-01-01T01:00:00Z"},
    )
    assert write.status_code == 401


@pytest.mark.parametrize("backend", BROKER_BACKENDS)
async def test_guessing_an_account_is_slowed_from_that_address_without_locking_the_owner_out(
    settings: Settings, db: AsyncSession, backend: str
) -> None:
    # With Redis the counts live in the shared server: a fresh name keeps repeated runs apart.
    target = f"target{secrets.token_hex(4)}"
    db.add_all(
        [
            User(username=target, display_name="Target", password_hash=PASSWORD_HASH),
            User(username="other", display_name="Other", password_hash=PASSWORD_HASH),
        ]
    )
    await db.commit()
    if backend == "redis":
        settings = dataclasses.replace(settings, redis_url=TEST_REDIS_URL)
    limit = settings.login_attempts_per_minute
    app = create_app(settings)
    async with serve_in_process(app) as guesser:
        statuses = [
            (
                await guesser.post("/api/auth/login", json={"username": target, "password": "guess"})
            ).status_code
            for _ in range(limit + 1)
        ]
        assert statuses == [401] * limit + [429]
        # From the guesser's address even the right password waits for the window to pass ...
        right = await guesser.post("/api/auth/login", json={"username": target, "password": PASSWORD})
        assert (right.status_code, right.json()["code"]) == (429, "auth.rate_limited")
        # ... while other accounts from that address still log in,
        other = await guesser.post("/api/auth/login", json={"username": "other", "password": PASSWORD})
        assert other.status_code == 200
        # and the owner, on their own tablet, is not locked out.
        owner_tablet = httpx.ASGITransport(app=app, client=("10.0.0.42", 50000))
        async with httpx.AsyncClient(transport=owner_tablet, base_url="http://testserver") as owner:
            mine = await owner.post("/api/auth/login", json={"username": target, "password": PASSWORD})
            assert mine.status_code == 200


async def test_login_attempts_are_rate_limited_per_address(settings: Settings) -> None:
    strict = dataclasses.replace(settings, login_attempts_per_minute=1)
    per_address = strict.login_attempts_per_minute * ADDRESS_LIMIT_FACTOR
    async with serve_in_process(create_app(strict)) as client:
        statuses = [
            (await client.post("/api/auth/login", json={"username": f"u{i}", "password": "x"})).status_code
            for i in range(per_address + 1)
        ]
    # Every name is new, so only the address limit can refuse the last one.
    assert statuses == [401] * per_address + [429]


async def test_secret_key_is_generated_once_and_kept(tmp_path: object) -> None:
    from pathlib import Path

    from meeting.settings import Settings as S

    data_dir = Path(str(tmp_path)) / "data"
    first = S(data_dir=data_dir).resolved_secret_key()
    second = S(data_dir=data_dir).resolved_secret_key()
    assert first == second and len(first) >= 32
    assert (data_dir / "secret_key").stat().st_mode & 0o077 == 0
    create_app(S(data_dir=data_dir))  # builds with the stored key

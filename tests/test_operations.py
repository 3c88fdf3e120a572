"""Health, OpenAPI, settings, the command line and the compose file."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from meeting.app import create_app
from meeting.migrations import include_name, upgrade
from meeting.models import metadata
from meeting.settings import Settings, normalize_database_url
from tests.support.servers import serve_in_process

if TYPE_CHECKING:
    import httpx

    from tests.support.api import Api

ROOT = Path(__file__).resolve().parent.parent


async def test_health_reports_database_and_broker(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "up",
        "broker": "memory",
        "office": "available",
    }


async def test_health_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    # Nothing listens on port 1: the connection is refused at once.
    settings = Settings(
        data_dir=tmp_path, database_url="postgresql://postgres@127.0.0.1:1/none", secret_key="k" * 64
    )
    async with serve_in_process(create_app(settings)) as client:
        response = await client.get("/health")
        assert response.status_code == 503
        assert response.json()["database"] == "down"
        login = await client.post("/api/auth/login", json={"username": "a", "password": "b"})
        assert login.status_code == 503
        assert "database is unavailable" in login.json()["detail"]


# Actions that take no body: the path says everything.
BODILESS_ACTIONS = ("/api/auth/logout", "/open", "/close", "/publish", "/submit", "/return", "/approve")


async def test_openapi_documents_every_endpoint_with_typed_bodies(api: Api) -> None:
    schema = (await api.client.get("/schema/openapi.json")).json()
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert len(operations) >= 20
    for path, method, operation in operations:
        assert operation.get("summary"), (path, method)
        if method in ("post", "put", "patch") and not path.endswith(BODILESS_ACTIONS):
            assert "requestBody" in operation, (path, method)
        success = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
        assert success, (path, method)
        for code, response in success.items():
            if code != "204" and path not in ("/api/auth/logout",):
                assert response.get("content"), (path, method, code)
    components = schema["components"]["schemas"]
    assert {"MeetingRead", "ItemRead", "ParticipantRead", "AttendanceRead", "UserRead"} <= set(components)
    # The errors as the server sends them, on every operation: {status, code, detail, errors?}.
    assert components["ErrorBody"]["required"] == ["status", "code", "detail"]
    assert "poll.already_voted" in components["ErrorBody"]["properties"]["code"]["enum"]
    for path, method, operation in operations:
        for status in ("400", "401", "403", "404", "409", "422", "429"):
            content = operation["responses"][status]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, (path, method, status)


def test_settings_read_the_environment_with_embedded_defaults() -> None:
    defaults = Settings.from_env({})
    assert defaults.database_url is None and defaults.redis_url is None
    assert defaults.resolved_database_url.startswith("sqlite+aiosqlite:///")
    assert defaults.upload_limit_bytes == 200 * 1024 * 1024
    custom = Settings.from_env(
        {
            "DATABASE_URL": "postgres://u@db/meeting",
            "REDIS_URL": "redis://cache:6379/0",
            "MEETING_SECRET_KEY": "s3cret",
            "MEETING_DATA_DIR": "/srv/meeting",
            "MEETING_TOKEN_LIFETIME_SECONDS": "600",
            "MEETING_UPLOAD_LIMIT_BYTES": "1000",
            "MEETING_ALLOWED_ORIGINS": "https://a.example, https://b.example",
        }
    )
    assert custom.resolved_database_url == "postgresql+asyncpg://u@db/meeting"
    assert custom.redis_url == "redis://cache:6379/0"
    assert custom.resolved_secret_key() == "s3cret"
    assert custom.data_dir == Path("/srv/meeting")
    assert (custom.token_lifetime_seconds, custom.upload_limit_bytes) == (600, 1000)
    assert custom.allowed_origins == ("https://a.example", "https://b.example")
    assert normalize_database_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"


def _meeting(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meeting.cli", *args],
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_migrates_seeds_the_demo_and_creates_users(tmp_path: Path) -> None:
    env = {"MEETING_DATA_DIR": str(tmp_path), "DATABASE_URL": ""}
    assert _meeting("db", "upgrade", env=env).returncode == 0
    demo = _meeting("demo", env=env)
    assert demo.returncode == 0, demo.stderr
    again = _meeting("demo", env=env)  # seeding twice changes nothing
    assert again.returncode == 0, again.stderr
    created = _meeting(
        "users",
        "create",
        "thuky2",
        "--display-name",
        "Thư ký hai",
        "--role",
        "secretary",
        "--password",
        "mật khẩu dài",
        "--email",
        "ThuKy2@Example.ORG",
        env=env,
    )
    assert created.returncode == 0, created.stderr
    assert "created user thuky2" in created.stdout
    duplicate = _meeting(
        "users", "create", "thuky2", "--display-name", "x", "--password", "long enough", env=env
    )
    assert duplicate.returncode == 2
    assert "taken" in duplicate.stderr
    short = _meeting("users", "create", "x", "--display-name", "x", "--password", "short", env=env)
    assert short.returncode == 2

    import sqlite3

    with sqlite3.connect(tmp_path / "meeting.sqlite3") as connection:
        meetings = connection.execute("SELECT title, status FROM meetings").fetchall()
        emails = dict(connection.execute("SELECT username, email FROM users"))
        users = set(emails)
        classified = dict(
            connection.execute("SELECT classification, count(*) FROM documents GROUP BY classification")
        )
        items = connection.execute("SELECT count(*) FROM agenda_items").fetchone()[0]
    assert meetings == [("Kỳ họp thứ Mười hai, Hội đồng nhân dân huyện Thanh Trì khóa XX", "scheduled")]
    assert {"admin", "secretary", "chair", "guest", "thuky2"} | {f"delegate{i}" for i in range(1, 6)} <= users
    # The domain of an address is lower-cased; demo accounts have addresses, for the delivery panel.
    assert emails["thuky2"] == "ThuKy2@example.org"
    assert emails["chair"] == "chair@example.org"
    assert 5 <= items <= 7
    # One paper per item; the draft budget is the confidential one.
    assert classified == {"confidential": 1, "ordinary": items - 1}


def test_audit_verify_without_a_database_says_so_and_leaves_no_empty_file(tmp_path: Path) -> None:
    # A wrong MEETING_DATA_DIR is the usual cause; opening the database would create an empty file there.
    env = {"MEETING_DATA_DIR": str(tmp_path / "nothing-here"), "DATABASE_URL": ""}
    refused = _meeting("audit", "verify", env=env)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "no database in" in refused.stderr and "MEETING_DATA_DIR" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "nothing-here" / "meeting.sqlite3").exists()
    assert _meeting("db", "upgrade", env=env).returncode == 0
    verified = _meeting("audit", "verify", env=env)
    assert verified.returncode == 0, verified.stderr
    assert "audit ok" in verified.stdout


def _compose_command() -> list[str] | None:
    """`docker compose` (the plugin) or the standalone `docker-compose`, whichever is installed."""
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode == 0
    ):
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


async def test_embedded_database_is_in_wal_mode_before_the_server_opens_it(tmp_path: Path) -> None:
    # Switching to WAL needs the file to itself; the server's first connections (requests, resumed
    # rendering) must not race to do it, so `meeting db upgrade` leaves the file in WAL mode.
    settings = Settings(data_dir=tmp_path, secret_key="k" * 64)
    await asyncio.to_thread(upgrade, settings)  # Alembic runs an event loop of its own
    with sqlite3.connect(tmp_path / "meeting.sqlite3") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    async with serve_in_process(create_app(settings)) as client:
        # A second connection beside the app's at start-up: no "database is locked".
        with sqlite3.connect(tmp_path / "meeting.sqlite3", timeout=0) as other:
            assert other.execute("SELECT count(*) FROM users").fetchone() == (0,)
        assert (await client.get("/health")).status_code == 200


@pytest.mark.skipif(_compose_command() is None, reason="no docker compose client is installed")
def test_compose_file_is_valid() -> None:
    command = _compose_command()
    assert command is not None
    result = subprocess.run(
        [*command, "-f", str(ROOT / "compose.yaml"), "config", "--quiet"],
        env={**os.environ, "MEETING_SECRET_KEY": "x" * 64},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    unset = subprocess.run(
        [*command, "-f", str(ROOT / "compose.yaml"), "config", "--quiet"],
        env={k: v for k, v in os.environ.items() if k != "MEETING_SECRET_KEY"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert unset.returncode != 0, "compose must refuse to start without a secret key"


def test_the_migrations_build_exactly_the_schema_of_the_models(sqlite_template: Path) -> None:
    # A column added to a model but forgotten in a migration (or the reverse) shows here, not in production.
    engine = create_engine(f"sqlite:///{sqlite_template}")
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        assert compare_metadata(context, metadata) == []
    engine.dispose()

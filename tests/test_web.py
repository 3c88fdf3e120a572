"""The web client's delivery: versioned, long-cached assets, and complete Vietnamese/English translations."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from meeting.errors import Code
from meeting.web import asset_version

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import AsyncTestClient

WEB = Path(__file__).resolve().parent.parent / "web"
CLIENT_TESTS = Path(__file__).resolve().parent / "web"
# Keys built at run time from a prefix, with every value they can take.
DYNAMIC_KEYS = {
    "conn.": ["online", "reconnecting", "offline"],
    "meeting.status.": ["draft", "scheduled", "live", "ended", "archived", "cancelled"],
    "item.status.": ["pending", "active", "done"],
    "role.": ["chair", "secretary", "delegate", "guest"],
    "attendance.": ["in_room", "online", "absent", "expected", "left"],
    "editor.tab.": ["details", "agenda", "participants", "attendance", "documents"],
    "meetings.group.": ["live", "upcoming", "past"],
    "meetings.empty.": ["live", "upcoming", "past"],
    "room.closed.": ["unauthenticated", "forbidden", "notFound", "tooManySockets"],
    "vote.": ["yes", "no", "abstain"],
    "vote.kind.": ["open", "named", "secret"],
    "vote.rule.": ["simple", "absolute", "members", "two_thirds"],
    "vote.state.": ["draft", "open", "closed", "published"],
    "vote.done.": ["open", "close", "publish"],
    "minutes.status.": ["draft", "submitted", "approved"],
    "minutes.signedBy.": ["secretary", "chair"],
    "signing.source.": ["pkcs12", "token", "demo"],
}
KEY_PREFIXES = (
    "app", "nav", "conn", "common", "login", "meetings", "meeting", "item", "role", "editor", "agenda",
    "participants", "attendance", "quorum", "documents", "error", "chair", "conclusion", "follow", "live",
    "note", "room", "search", "speakers", "tool", "viewer", "vote", "minutes", "signing",
)  # fmt: skip
# Socket event names and storage keys share the dotted shape of translation keys; they are not labels.
NOT_LABELS = re.compile(
    r"^(meeting\.(changed|status|token|user|lang|afterLogin|receipt\.)|room\.(snapshot|replayed)"
    r"|nav\.tabs$|agenda\.|annotation\.|attendance\.changed|document\.|page\.|participant\.|pointer\."
    r"|poll\.|presence\.|presenter\.|speaker\.)"
)


def _dictionaries() -> tuple[dict[str, str], dict[str, str]]:
    vi = json.loads((WEB / "i18n" / "vi.json").read_text(encoding="utf-8"))
    en = json.loads((WEB / "i18n" / "en.json").read_text(encoding="utf-8"))
    return vi, en


def test_vietnamese_and_english_have_the_same_labels_and_none_is_empty() -> None:
    vi, en = _dictionaries()
    assert set(vi) == set(en)
    assert all(value.strip() for value in [*vi.values(), *en.values()])


def test_every_label_the_client_uses_is_translated() -> None:
    vi, _ = _dictionaries()
    source = "\n".join(path.read_text(encoding="utf-8") for path in (WEB / "js").rglob("*.js"))
    used = {
        key
        for key in re.findall(r"""["`]([a-z]+(?:\.[A-Za-z0-9_]+)+)["`]""", source)
        if key.split(".")[0] in KEY_PREFIXES and not NOT_LABELS.match(key)
    }
    used |= {prefix + value for prefix, values in DYNAMIC_KEYS.items() for value in values}
    assert sorted(used - set(vi)) == []


def test_asset_version_changes_with_any_file(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<script src='/assets/{{version}}/app.js'></script>")
    (tmp_path / "app.js").write_text("console.log(1)")
    before = asset_version(tmp_path)
    assert asset_version(tmp_path) == before
    (tmp_path / "app.js").write_text("console.log(2)")
    assert asset_version(tmp_path) != before


async def test_index_is_revalidated_and_points_at_immutable_versioned_assets(
    client: AsyncTestClient[Litestar],
) -> None:
    index = await client.get("/")
    assert index.status_code == 200
    assert index.headers["cache-control"] == "no-cache"
    match = re.search(r'src="(/assets/([0-9a-f]{12})/js/main\.js)"', index.text)
    assert match is not None, index.text
    assert match.group(2) == asset_version(WEB)
    script = await client.get(match.group(1))
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "immutable" in script.headers["cache-control"]
    assert "max-age=31536000" in script.headers["cache-control"]
    translations = await client.get(f"/assets/{match.group(2)}/i18n/vi.json")
    assert translations.json()["app.name"] == "Phòng họp không giấy"
    assert (await client.get("/assets/000000000000/js/main.js")).status_code == 404


def test_index_preloads_every_module_so_a_tablet_fetches_them_in_one_round() -> None:
    index = (WEB / "index.html").read_text(encoding="utf-8")
    preloaded = set(re.findall(r'rel="modulepreload" href="/assets/\{\{version\}\}/(js/[\w/]+\.js)"', index))
    modules = {path.relative_to(WEB).as_posix() for path in (WEB / "js").rglob("*.js")}
    assert preloaded == modules - {"js/main.js"}


def test_every_error_code_has_a_vietnamese_and_an_english_text() -> None:
    vi, en = _dictionaries()
    keys = {f"error.{code}" for code in Code}
    assert sorted(keys - set(vi)) == []
    assert sorted(keys - set(en)) == []


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed (Debian package nodejs)")
def test_pure_client_modules_pass_their_node_tests() -> None:
    """The client's pure modules (the live screen's reducer …) are tested by Node's own test runner."""
    files = sorted(str(path) for path in CLIENT_TESTS.glob("*.test.js"))
    assert files
    result = subprocess.run(
        ["node", "--test", *files], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr

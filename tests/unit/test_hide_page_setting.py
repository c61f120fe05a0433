"""The neutral page "Hide this page" goes to is a setting: an https address, checked at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.config import ConfigError, load_settings


def _settings(tmp_path: Path, **values: object):
    return load_settings({"instance_path": str(tmp_path), "testing": True, **values})


def test_the_default_is_a_neutral_public_page(tmp_path: Path) -> None:
    assert _settings(tmp_path).hide_page_url == "https://www.bbc.co.uk/weather"


def test_the_environment_sets_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_HIDE_PAGE_URL", "https://www.metoffice.gov.uk/")
    assert _settings(tmp_path).hide_page_url == "https://www.metoffice.gov.uk/"


@pytest.mark.parametrize("url", [
    "http://www.bbc.co.uk/weather",            # not https
    "javascript:alert(1)",                      # would run in the portal's page
    "data:text/html,<h1>Weather</h1>",
    "/hide",                                    # the portal itself
    "https://",                                 # no site
    "https://user:secret@www.bbc.co.uk/",       # credentials
    "https://www.bbc.co.uk/wea ther",           # whitespace
    "https://[www.bbc.co.uk/",                  # unreadable
    "",
])
def test_anything_but_an_https_address_is_refused_at_start_up(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match=r"hide_page_url .* must be an https address"):
        _settings(tmp_path, hide_page_url=url)


def test_the_hide_link_and_its_redirect_use_the_setting(tmp_path: Path) -> None:
    from portal import create_app
    from tests.conftest import make_test_config

    app = create_app(make_test_config(tmp_path, f"sqlite:///{tmp_path / 'p.db'}",
                                      hide_page_url="https://neutral.example/news"))
    client = app.test_client()
    response = client.get("/hide")
    assert response.status_code == 303
    assert response.headers["Location"] == "https://neutral.example/news"
    html = client.get("/sign-in").get_data(as_text=True)
    assert 'data-portal-hide-page="https://neutral.example/news"' in html
    assert 'href="/hide"' in html

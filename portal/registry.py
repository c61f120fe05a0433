"""What the services need from the running app, reached without Flask.

Services take plain inputs; the few things that belong to the app rather than to one call (the
password hasher, the settings, the dummy hash verified for unknown addresses, the sign-in
throttle that commits each attempt) are reached through here.
`portal.auth.init_app` (called by `create_app`) installs the providers; each is called when
needed, so a test that swaps the app's hasher (`app.extensions["passwords"]`) is seen at once.
Nothing here imports Flask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .passwords import Passwords
    from .services.accounts import Throttle


@dataclass(frozen=True)
class Providers:
    passwords: Callable[[], Passwords]
    settings: Callable[[], Any]
    dummy_hash: Callable[[], str]
    throttle: Callable[[], Throttle]


_installed: Providers | None = None


def install(providers: Providers) -> None:
    global _installed
    _installed = providers


def _providers() -> Providers:
    if _installed is None:
        raise RuntimeError("portal.registry: no app has installed its providers (create_app)")
    return _installed


def passwords() -> Passwords:
    return _providers().passwords()


def settings() -> Any:
    return _providers().settings()


def dummy_hash() -> str:
    return _providers().dummy_hash()


def throttle() -> Throttle:
    return _providers().throttle()

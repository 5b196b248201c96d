"""Keys: one behaviour suite over both key databases, and nodes sharing the Postgres one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from streamgauge.config import load_settings
from streamgauge.errors import NotFound
from streamgauge.keys import KeyStore, open_key_store
from streamgauge.keys_postgres import PostgresKeyDatabase
from streamgauge.scope import KeyScope
from tests.support.postgres import private_schema
from tests.support.server import wait_for

OpenStore = Callable[[], KeyStore]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.service)])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    """Opens another store on the same database each call (another process, another node)."""
    opened: list[KeyStore] = []

    def opener(make: Callable[[], KeyStore]) -> OpenStore:
        def open_one() -> KeyStore:
            opened.append(make())
            return opened[-1]

        return open_one

    if request.param == "sqlite":
        yield opener(lambda: KeyStore(tmp_path / "keys.db"))
    else:
        with private_schema() as url:
            yield opener(lambda: KeyStore(database=PostgresKeyDatabase(url)))
    for store in opened:
        store.close()


def test_a_created_key_authenticates_as_its_project_and_scope(open_store: OpenStore) -> None:
    store = open_store()
    info, secret = store.create("shop", KeyScope.READ, organization_id="acme", name="usage page")
    principal = store.authenticate(secret)
    assert principal is not None
    assert (principal.project_id, principal.scope, principal.organization_id, principal.key_id) == (
        "shop", KeyScope.READ, "acme", info.key_id,
    )  # fmt: skip
    assert store.authenticate(secret + "x") is None


def test_list_filters_by_project_and_hides_revoked_keys(open_store: OpenStore) -> None:
    store = open_store()
    a, _ = store.create("shop", KeyScope.WRITE)
    b, _ = store.create("blog", KeyScope.ADMIN)
    store.revoke(a.key_id)
    assert [k.key_id for k in store.list()] == [b.key_id]
    assert [k.key_id for k in store.list(project_id="shop", include_revoked=True)] == [a.key_id]
    with pytest.raises(NotFound):
        store.revoke(a.key_id)


def test_another_node_sees_created_and_revoked_keys(open_store: OpenStore) -> None:
    cli, node = open_store(), open_store()
    assert not node.has_keys()
    info, secret = cli.create("shop", KeyScope.WRITE)
    wait_for(lambda: node.authenticate(secret) is not None, timeout=5.0, what="the new key")
    cli.revoke(info.key_id)
    wait_for(lambda: node.authenticate(secret) is None, timeout=5.0, what="the revocation")


@pytest.mark.service
def test_a_postgres_catalog_puts_every_node_on_the_same_keys(tmp_path: Path) -> None:
    with private_schema() as url:
        settings = load_settings(None, environ={"STREAMGAUGE_ARCHIVE__CATALOG": url})
        first = open_key_store(settings, tmp_path / "a" / "keys.db")
        second = open_key_store(settings, tmp_path / "b" / "keys.db")
        try:
            _, secret = first.create("shop", KeyScope.READ)
            wait_for(lambda: second.authenticate(secret), timeout=5.0, what="the shared key")
            assert not (tmp_path / "a" / "keys.db").exists()
        finally:
            first.close()
            second.close()


def test_without_a_postgres_catalog_keys_stay_in_the_data_directory(tmp_path: Path) -> None:
    store = open_key_store(load_settings(None, environ={}), tmp_path / "keys.db")
    store.close()
    assert (tmp_path / "keys.db").exists()

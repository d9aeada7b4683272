"""A small SharePoint Online tenant on the fake Microsoft cloud, and the source's
configuration for it (shared by the source and the engine tests)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.fakes.fake_microsoft import (
    Drive,
    FakeMicrosoft,
    RegisteredApp,
    Site,
    SiteList,
    Tenant,
    certificate_pair,
)

SECRET = "fake-secret-value-not-real"


@dataclass
class FakeTenant:
    fake: FakeMicrosoft
    tenant: Tenant
    app: RegisteredApp
    certificate: str
    private_key: str
    site: Site
    drive: Drive
    tasks: SiteList

    def config(self, auth_method: str = "certificate", **values: Any) -> dict[str, Any]:
        """The source's configuration (Elastic's keys, then the custom cloud's endpoints)."""
        config: dict[str, Any] = {
            "tenant_id": self.tenant.id,
            "tenant_name": self.tenant.name,
            "client_id": self.app.client_id,
            "auth_method": auth_method,
            "secret_value": SECRET,
            "certificate": self.certificate,
            "private_key": self.private_key,
            "cloud": "custom",
            "login_endpoint": self.fake.url,
            "graph_endpoint": self.fake.url,
        }
        config.update(values)
        return config


_PAIR: tuple[str, str] | None = None


def shared_certificate() -> tuple[str, str]:
    """One RSA certificate for the session (making a key costs ~0.1 s)."""
    global _PAIR
    if _PAIR is None:
        _PAIR = certificate_pair()
    return _PAIR


def build_tenant(fake: FakeMicrosoft) -> FakeTenant:
    certificate, key = shared_certificate()
    tenant = fake.add_tenant("contoso")
    app = fake.add_app(tenant, secret=SECRET, certificate_pem=certificate.encode())
    site = fake.add_site(tenant, "marketing", title="Marketing")
    drive = site.drives[0]
    fake.add_file(drive, "plan.txt", b"The marketing plan for 2027: rivers and lakes.")
    fake.add_file(
        drive, "Übersicht.html", "<html><body><p>Grüße aus Köln</p></body></html>".encode()
    )
    fake.add_file(drive, "logo.png", b"\x89PNG\r\n\x1a\n not text")
    archive = fake.add_folder(drive, "Archive")
    fake.add_file(drive, "old.txt", b"last year's plan", folder=archive)
    tasks = fake.add_list(site, "Tasks", "Team tasks")
    fake.add_list_item(tasks, "Write the plan", {"notes.txt": b"attachment about lakes"})
    fake.add_list_item(tasks, "Review the plan")
    fake.add_page(site, "Home", "<div><h1>Welcome</h1><p>Marketing <b>news</b></p></div>")
    fake.add_site(tenant, "engineering", title="Engineering")
    return FakeTenant(fake, tenant, app, certificate, key, site, drive, tasks)


@pytest.fixture
def microsoft() -> Iterator[FakeMicrosoft]:
    with FakeMicrosoft() as fake:
        yield fake


@pytest.fixture
def spo(microsoft: FakeMicrosoft) -> FakeTenant:
    return build_tenant(microsoft)

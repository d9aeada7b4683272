"""`python -m sluice.tui.screenshots OUTDIR` (what `make screenshots` runs): drive the real app
through every wizard step, the dashboard and the monitor, and save each screen as SVG
(Textual's `export_screenshot`) and PNG (`rsvg-convert`, Debian's librsvg2-bin).

The run is scripted against local servers only: the wizard's own "Try it on this machine"
sandbox (a fresh, empty cluster, so the pictures show nothing else) and the repository's
`sample-data/` folder. Secrets shown are dummies, and masked on screen as always.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from sluice.core.engine.deletion_guard import MINIMUM_KEY
from sluice.core.sandbox import sandbox_available
from sluice.sources.directory.source import sample_data_directory
from sluice.tui.app import SluiceApp
from sluice.tui.monitor_app import MonitorApp
from sluice.tui.screens.wizard import WizardScreen

SIZE = (100, 32)
SMALL = (80, 24)
DEMO_KEY = "ZGVtby1rZXktaWQ6bm90LWEtcmVhbC1zZWNyZXQ="  # base64 "demo-key-id:not-a-real-secret"


class Shooter:
    """Saves the current screen of an app as OUTDIR/NAME.svg (+ .png)."""

    def __init__(self, outdir: Path) -> None:
        self.outdir = outdir
        self.saved: list[Path] = []

    def shoot(self, app: Any, name: str, title: str) -> None:
        svg = app.export_screenshot(title=title)
        path = self.outdir / f"{name}.svg"
        path.write_text(svg, encoding="utf-8")
        self.saved.append(path)
        print(f"  {path}")

    def convert(self) -> int:
        """PNG next to each SVG; spaces kept (rsvg collapses them without xml:space)."""
        converter = shutil.which("rsvg-convert")
        if converter is None:
            print("rsvg-convert not found (Debian: librsvg2-bin): SVGs only", file=sys.stderr)
            return 1
        for svg in self.saved:
            text = svg.read_text(encoding="utf-8").replace("<svg ", '<svg xml:space="preserve" ', 1)
            with tempfile.NamedTemporaryFile("w", suffix=".svg", delete=False) as tmp:
                tmp.write(text)
            try:
                subprocess.run(
                    [converter, tmp.name, "-o", str(svg.with_suffix(".png"))], check=True
                )
            finally:
                os.unlink(tmp.name)
        return 0


async def wait_for(pilot: Pilot, predicate: Callable[[], Any], timeout: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if predicate():
            await pilot.pause(0.3)
            return
        await pilot.pause(0.1)
    raise TimeoutError(f"screenshots: timed out waiting for {predicate}")


async def ready(pilot: Pilot, screen: WizardScreen, timeout: float = 60.0) -> None:
    await pilot.pause(0.2)
    await wait_for(pilot, lambda: not screen.busy and screen.step.blocker() is None, timeout)


async def press_next(pilot: Pilot, screen: WizardScreen) -> None:
    await ready(pilot, screen)
    before = screen.current
    await pilot.press("ctrl+n")
    await wait_for(pilot, lambda: screen.current == before + 1)


async def wizard_run(
    shots: Shooter,
    workdir: Path,
    sample: Path,
    elastic_service: Any = None,
    microsoft: Any = None,
) -> dict[str, Any]:
    """The whole wizard on the sandbox; returns what the dashboard/monitor shots need."""
    app = SluiceApp("config.yml", start_over=True, test_mode=True)
    result: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, WizardScreen)
        # the steps mount just after the first frame: type once they are there
        await wait_for(pilot, lambda: screen.shown_step is not None)
        # 1. prerequisites: search, pick the folder source, doctor runs
        await pilot.press(*"folder")
        await pilot.press("tab", "down", "enter")
        await ready(pilot, screen)
        shots.shoot(app, "01-prerequisites", "Sluice — 1. Prerequisites")
        await press_next(pilot, screen)
        # 2. Elasticsearch: first an unreachable address, then the sandbox
        screen.query_one("#es-host").value = "https://localhost:1"
        await wait_for(
            pilot,
            lambda: (
                screen.step.blocker() not in (None, "Checking the connection…")
                and screen.step._checked
            ),
        )
        shots.shoot(app, "02-elasticsearch-error", "Sluice — 2. Elasticsearch (error)")
        await pilot.click("#sandbox-start")
        await wait_for(pilot, lambda: app.session.sandbox is not None, timeout=60)
        await ready(pilot, screen)
        screen.query_one("#es-auth").value = "api_key"
        await pilot.pause()
        screen.query_one("#es-api-key").value = DEMO_KEY
        await ready(pilot, screen)
        shots.shoot(app, "02-elasticsearch", "Sluice — 2. Elasticsearch")
        await app.run_action("toggle_theme")
        await pilot.pause(0.5)
        shots.shoot(app, "02-elasticsearch-light", "Sluice — light theme")
        await app.run_action("toggle_theme")
        await press_next(pilot, screen)
        # 3. connector
        screen.query_one("#connector-name").value = "Sample documents"
        screen.query_one("#connector-description").value = "The sample-data folder"
        await ready(pilot, screen)
        await press_next(pilot, screen)
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: screen.current == 2)
        shots.shoot(app, "03-connector", "Sluice — 3. Create connector")
        await press_next(pilot, screen)
        # 4. config.yml (secret as an environment variable reference)
        with contextlib.suppress(Exception):
            screen.query_one("#placement-env").value = True
        await ready(pilot, screen)
        shots.shoot(app, "04-config-yml", "Sluice — 4. config.yml")
        await press_next(pilot, screen)
        # 5. source details: a copy of the sample folder (part of it vanishes later, for the
        # deletion guard's picture), the guard's minimum lowered for its 8 files
        folder = workdir / "sample-data"
        shutil.copytree(sample, folder)
        await wait_for(pilot, lambda: screen.step.form is not None)
        screen.step.form.set_value("directory", str(folder))
        screen.step.form.set_value(MINIMUM_KEY, "1")
        await ready(pilot, screen)
        shots.shoot(app, "05-source-details", "Sluice — 5. Source details")
        await press_next(pilot, screen)
        # 6. index
        screen.query_one("#index-name").value = "search-sample-documents"
        await ready(pilot, screen)
        shots.shoot(app, "06-index", "Sluice — 6. Index")
        await press_next(pilot, screen)
        # 7. review
        await ready(pilot, screen)
        shots.shoot(app, "07-review", "Sluice — 7. Review & sync")
        # the dry run
        await pilot.click("#preview")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "PreviewScreen")
        preview = app.screen
        await wait_for(pilot, lambda: preview.report is not None, timeout=60)
        shots.shoot(app, "07-preview", "Sluice — Preview (a dry run)")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        # the small terminal, for the record
        await pilot.resize_terminal(*SMALL)
        await pilot.pause(0.5)
        shots.shoot(app, "07-review-80x24", "Sluice at 80x24")
        await pilot.resize_terminal(*SIZE)
        await pilot.pause(0.3)
        # the dashboard: a sync run here
        await pilot.click("#start-sync")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "DashboardScreen")
        dashboard = app.screen
        await wait_for(pilot, lambda: dashboard.feed.poll().finished, timeout=120)
        await pilot.pause(1.5)
        shots.shoot(app, "08-dashboard", "Sluice — sync dashboard")
        # most of the folder vanishes: the next sync stops before deleting
        for path in sorted(p for p in folder.rglob("*") if p.is_file())[:5]:
            path.unlink()
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        await ready(pilot, screen)
        await pilot.click("#start-sync")
        await wait_for(
            pilot,
            lambda: type(app.screen).__name__ == "DashboardScreen" and app.screen is not dashboard,
        )
        guarded = app.screen
        await wait_for(pilot, lambda: guarded.feed.poll().finished, timeout=120)
        await pilot.pause(1.5)
        shots.shoot(app, "08-deletion-guard", "Sluice — the deletion guard stopped a sync")
        result["settings"] = app.session.es_settings()
        # the monitor, while the sandbox still runs
        monitor = MonitorApp(result["settings"], test_mode=True)
        async with monitor.run_test(size=SIZE) as monitor_pilot:
            await monitor_pilot.pause(2.0)
            shots.shoot(monitor, "09-monitor", "sluice monitor")
            await monitor_pilot.press("w")
            await wait_for(monitor_pilot, lambda: getattr(monitor.screen, "result", None))
            await monitor_pilot.pause(0.5)
            shots.shoot(monitor, "09-explain", "sluice monitor — why is it stuck? (w)")
        if elastic_service is not None:
            await elastic_run(shots, pilot, app, screen, elastic_service)
        if microsoft is not None:
            await sharepoint_run(shots, pilot, app, screen, microsoft)
        await pilot.press("ctrl+q")
    return result


def _text(widget: Any) -> str:
    rendered = widget.render()
    return str(getattr(rendered, "plain", rendered))


def find_fake_microsoft() -> Any:
    """The fake Microsoft cloud and its small tenant, kept with the tests (this is a
    checkout's command); None outside a checkout."""
    try:
        from tests.fakes.fake_microsoft import FakeMicrosoft
        from tests.sources.sharepoint_tenant import build_tenant
    except ImportError:
        return None
    return FakeMicrosoft, build_tenant


async def sharepoint_run(shots: Shooter, pilot: Pilot, app: Any, screen: Any, fake: Any) -> None:
    """SharePoint Online run by Sluice's engine: the form with its consent link and a
    passing test connection against the fake tenant."""
    fake_class, build_tenant = fake
    with fake_class() as microsoft:
        tenant = build_tenant(microsoft)
        if app.screen is not screen:  # back to the wizard from the dashboard
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is screen)
        screen.jump(0)
        await wait_for(pilot, lambda: screen.current == 0)
        screen.query_one("#run-by-elastic").value = False
        search = screen.query_one("#source-search")
        search.value = "sharepoint online"
        search.focus()
        await pilot.press("enter", "enter")
        await wait_for(pilot, lambda: not app.session.run_by_elastic)
        await press_next(pilot, screen)
        await press_next(pilot, screen)
        screen.step._start_new()
        screen.query_one("#connector-name").value = "Marketing sites"
        screen.query_one("#connector-description").value = "SharePoint Online, run by Sluice"
        await press_next(pilot, screen)
        await press_next(pilot, screen)  # config.yml
        await wait_for(pilot, lambda: screen.query("#input-tenant_id"))
        form = screen.step.form
        for key, value in tenant.config("certificate").items():
            if key in form.fields and key not in ("certificate", "private_key"):
                form.set_value(key, value)
        await pilot.pause(0.3)
        form.set_value("certificate", tenant.certificate)
        form.set_value("private_key", tenant.private_key)
        await pilot.pause(0.3)
        screen.step.test_connection()
        result = screen.query_one("#source-test")
        await wait_for(pilot, lambda: "It will sync" in _text(result))
        screen.step.scroll_end(animate=False)
        await pilot.pause(0.5)
        shots.shoot(app, "15-sharepoint-online", "Sluice — SharePoint Online, run by Sluice")


def find_elastic_service() -> Any:
    """The fake of Elastic's connector service kept with the tests (this is a checkout's
    command): it checks in, writes a SharePoint Online schema, rejects a bad tenant and runs
    a job, so the pictures show the whole flow. None outside a checkout."""
    try:
        from tests.fakes.fake_elastic_service import FakeElasticService
    except ImportError:
        return None
    return FakeElasticService


async def elastic_run(shots: Shooter, pilot: Pilot, app: Any, screen: Any, service: Any) -> None:
    """A SharePoint Online connector run by Elastic's service, on the same sandbox: the
    source list, the silence the doctor explains, the Deploy view, the service's verdict on
    the form and its job on the dashboard."""
    from sluice.tui.widgets import checkin_watch

    checkin_watch.DOCTOR_AFTER = 1.0
    await pilot.press("escape")  # back to the wizard from the dashboard
    await wait_for(pilot, lambda: app.screen is screen)
    screen.jump(0)
    await wait_for(pilot, lambda: screen.current == 0)
    search = screen.query_one("#source-search")
    search.value = "sharepoint online"
    search.focus()
    await pilot.press("enter", "enter")
    await wait_for(pilot, lambda: app.session.state.service_type == "sharepoint_online")
    # Sluice runs SharePoint Online itself; handed to Elastic's service here (the choice of
    # a user who needs document level security)
    screen.query_one("#run-by-elastic").value = True
    await wait_for(pilot, lambda: app.session.run_by_elastic)
    await ready(pilot, screen)
    shots.shoot(app, "10-elastic-source", "Sluice — a type handed to Elastic's service")
    await press_next(pilot, screen)
    await press_next(pilot, screen)
    # a new connector for the new type
    screen.step._start_new()
    screen.query_one("#connector-name").value = "Team sites"
    screen.query_one("#connector-description").value = "SharePoint Online, run by Elastic"
    await press_next(pilot, screen)
    await press_next(pilot, screen)  # config.yml
    watch = screen.query_one("#checkin")
    await wait_for(pilot, lambda: watch.has_class("-doctor"))
    await pilot.pause(3.0)
    shots.shoot(app, "11-elastic-doctor", "Sluice — waiting for check-in, the doctor")
    watch.post_message(type(watch).DeployRequested())
    await wait_for(pilot, lambda: type(app.screen).__name__ == "DeployScreen")
    await pilot.pause(2.0)
    shots.shoot(app, "12-deploy", "Sluice — Deploy view")
    await pilot.press("escape")
    await wait_for(pilot, lambda: app.screen is screen)
    connector_id = app.session.state.connector_id
    with service.for_settings(
        app.session.es_settings(),
        {connector_id: "sharepoint_online"},
        interval=0.5,
        docs_per_loop=40,
        total_docs=1200,
    ):
        await wait_for(pilot, lambda: screen.query("#input-tenant_id"))
        await pilot.pause(0.5)
        form = screen.step.form
        form.set_value("tenant_id", "contoso.onmicrosoft.com")
        form.set_value("tenant_name", "contoso")
        form.set_value("client_id", "6731de76-14a6-49ae-97bc-6eba6914391e")
        form.set_value("secret_value", "not-a-real-secret")
        await ready(pilot, screen)
        await pilot.press("ctrl+n")
        await wait_for(
            pilot,
            lambda: (
                screen.step.blocker() is not None and "rejected" in (screen.step.blocker() or "")
            ),
        )
        await pilot.pause(0.5)
        shots.shoot(app, "13-elastic-verdict", "Sluice — the service's verdict on the form")
        form.set_value("tenant_id", "0a4c2f3e-8f1b-4e7a-9c55-3d2e1f0a9b8c")
        await press_next(pilot, screen)
        screen.query_one("#index-name").value = "search-team-sites"
        await press_next(pilot, screen)
        await ready(pilot, screen)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "DashboardScreen")
        dashboard = app.screen
        await wait_for(pilot, lambda: dashboard.feed.poll().finished, timeout=120)
        await pilot.pause(1.5)
        shots.shoot(app, "14-elastic-dashboard", "Sluice — a job run by Elastic's service")


async def capture(outdir: Path) -> None:
    sample = sample_data_directory()
    if sample is None:
        raise SystemExit("screenshots: the sample-data/ folder is missing")
    if not sandbox_available():
        raise SystemExit(
            "screenshots: the sandbox is not installed (pip install 'sluice[sandbox]')"
        )
    shots = Shooter(outdir)
    elastic_service = find_elastic_service()  # before leaving the checkout's folder
    microsoft = find_fake_microsoft()
    workdir = Path(tempfile.mkdtemp(prefix="sluice-screenshots-"))
    previous = Path.cwd()
    os.chdir(workdir)
    os.environ["SLUICE_STATE_DIR"] = str(workdir / "state")
    try:
        await wizard_run(shots, workdir, sample, elastic_service, microsoft)
    finally:
        os.chdir(previous)
        shutil.rmtree(workdir, ignore_errors=True)
    shots.convert()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m sluice.tui.screenshots OUTDIR", file=sys.stderr)
        return 2
    outdir = Path(args[0]).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    print(f"Saving screenshots to {outdir}")
    asyncio.run(capture(outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main())

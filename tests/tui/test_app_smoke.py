"""Smoke test: the app starts and shows its first screen."""

from sluice.tui.app import SluiceApp


async def test_app_starts_on_first_step(tmp_path):
    app = SluiceApp(config_path=str(tmp_path / "config.yml"))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "Prerequisites" in text

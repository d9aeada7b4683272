"""Widgets on their own: secrets can't be copied out, the schema form follows `depends_on`
and folds advanced fields, check lists say their status in words."""

from __future__ import annotations

from textual import events
from textual.app import App, ComposeResult
from textual.widgets import Collapsible, Input

from sluice.tui.widgets.check_list import CheckList, CheckView
from sluice.tui.widgets.copyable import CopyableValue
from sluice.tui.widgets.field_status import FieldStatus
from sluice.tui.widgets.form import FieldRow
from sluice.tui.widgets.schema_form import SchemaForm
from sluice.tui.widgets.secret_input import SecretInput
from sluice.tui.widgets.step_list import StepList
from sluice.tui.widgets.summary import Summary
from sluice.tui.widgets.toggles import MarkedCheckbox
from tests.tui.conftest import text_of

SCHEMA = {
    "host": {"label": "Host", "order": 1, "type": "str", "display": "text", "value": ""},
    "port": {"label": "Port", "order": 2, "type": "int", "display": "numeric", "value": 5432},
    "password": {
        "label": "Password",
        "order": 3,
        "type": "str",
        "display": "text",
        "value": "",
        "sensitive": True,
    },
    "ssl_enabled": {
        "label": "Use TLS",
        "order": 4,
        "type": "bool",
        "display": "toggle",
        "value": False,
        "required": False,
    },
    "ssl_ca": {
        "label": "CA certificate",
        "order": 5,
        "type": "str",
        "display": "text",
        "value": "",
        "depends_on": [{"field": "ssl_enabled", "value": True}],
    },
    "mode": {
        "label": "Mode",
        "order": 6,
        "type": "str",
        "display": "dropdown",
        "value": "fast",
        "options": [{"label": "Fast", "value": "fast"}, {"label": "Safe", "value": "safe"}],
        "tooltip": "How to read rows.",
    },
    "fetch_size": {
        "label": "Fetch size",
        "order": 7,
        "type": "int",
        "display": "numeric",
        "value": 50,
        "ui_restrictions": ["advanced"],
        "required": False,
    },
}


class WidgetApp(App):
    def __init__(self, *widgets) -> None:
        super().__init__()
        self._widgets = widgets

    def compose(self) -> ComposeResult:
        yield from self._widgets


class BreakpointApp(WidgetApp):
    """Sluice's responsive classes, none of its stylesheets: what a widget needs must come
    with the widget."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]


async def test_widgets_bring_their_own_layout_for_80_columns():
    """The narrow layout lives with each widget, so every app that shows it (the wizard,
    the monitor) gets it: slimmer labels and step list, labels above long-label controls,
    one-line check boxes."""
    widths = {}
    for columns in (80, 120):
        steps, box = StepList(["One", "Two"]), MarkedCheckbox("ok")
        row, copy = FieldRow("Label", Input()), CopyableValue("Id", "abc")
        form = SchemaForm({"mode": SCHEMA["mode"]})
        app = BreakpointApp(steps, row, copy, form, box)
        async with app.run_test(size=(columns, 40)) as pilot:
            await pilot.pause()
            widths[columns] = (
                steps.outer_size.width,
                row.query_one(".field-row--label").outer_size.width,
                copy.query_one(".copyable--label").outer_size.width,
                form.query_one(".schema-field--line").styles.layout.name,
            )
            assert box.outer_size.height == 1
    assert widths[80] == (24, 17, 17, "vertical")
    assert widths[120] == (26, 20, 20, "horizontal")


async def test_secret_input_masks_and_never_copies():
    app = WidgetApp(SecretInput(id="secret"))
    async with app.run_test() as pilot:
        secret = app.query_one(SecretInput)
        secret.focus()
        await pilot.press(*"s3cr3t-value")
        assert secret.value == "s3cr3t-value"
        assert "s3cr3t" not in str(secret.render_line(0).text)
        app.copy_to_clipboard("before")
        await pilot.press("ctrl+shift+a", "ctrl+c")
        await pilot.press("ctrl+shift+a", "ctrl+x")
        assert app.clipboard == "before"
        assert secret.value == "s3cr3t-value"  # cut did not remove it either
        assert "s3cr3t" not in repr(secret)


async def test_a_pasted_key_keeps_its_lines_in_a_multiline_secret_field():
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\nkqhkiG9w0BAQEF\n-----END PRIVATE KEY-----\n"
    app = WidgetApp(SecretInput(id="secret", multiline=True))
    async with app.run_test() as pilot:
        secret = app.query_one(SecretInput)
        secret.focus()
        secret.post_message(events.Paste(pem))
        await pilot.pause()
        assert secret.value == pem.strip()
        secret.value = ""
        secret.post_message(events.Paste(pem.replace("\n", "\r")))  # as tmux and many terminals
        await pilot.pause()
        assert secret.value == pem.strip()
        assert "MIIE" not in str(secret.render_line(0).text)  # still masked
    single = WidgetApp(SecretInput(id="secret"))
    async with single.run_test() as pilot:
        secret = single.query_one(SecretInput)
        secret.focus()
        secret.post_message(events.Paste("first line\nsecond line"))
        await pilot.pause()
        assert secret.value == "first line"  # a one-line secret keeps Input's rule


async def test_schema_form_depends_on_advanced_and_values():
    form = SchemaForm(SCHEMA)
    app = WidgetApp(form)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        assert form.fields["ssl_ca"].display is False  # depends on ssl_enabled = true
        form.set_value("ssl_enabled", True)
        await pilot.pause()
        assert form.fields["ssl_ca"].display is True
        assert isinstance(form.fields["password"].control, SecretInput)
        assert form.query_one("#advanced-settings", Collapsible).collapsed
        form.set_value("port", "54x")
        await pilot.pause()
        values = form.configuration()
        assert values["ssl_enabled"]["value"] is True  # a real boolean, never "true"
        assert values["mode"]["value"] == "fast"
        assert "port" in form.coerce_errors
        form.set_value("port", "6543")
        await pilot.pause()
        assert form.configuration()["port"]["value"] == 6543
        form.show_errors({"fetch_size": "Fetch size must be greater than 0."})
        await pilot.pause()
        assert not form.query_one("#advanced-settings", Collapsible).collapsed
        assert "greater than 0" in text_of(form.fields["fetch_size"].status)


async def test_check_list_shows_status_in_words():
    checks = CheckList()
    app = WidgetApp(checks)
    async with app.run_test() as pilot:
        checks.begin([("a", "First"), ("b", "Second")])
        await pilot.pause()
        checks.record(CheckView("a", "First", "fail", "it broke", "do this"))
        await pilot.pause()
        rows = [text_of(row) for row in checks.query(".check-row")]
        assert rows[0].startswith("[ FAIL ]")
        assert "Fix: do this" in rows[0]
        assert checks.worst() == "fail"


async def test_field_status_cuts_a_pasted_blob_and_repeats_no_line():
    status = FieldStatus()
    app = WidgetApp(status)
    async with app.run_test() as pilot:
        blob = "h" * 3000
        status.show("fail", f"'{blob}' is not an address", "write it as https://HOST:PORT")
        await pilot.pause()
        shown = text_of(status)
        assert "is not an address" in shown and "Fix: write it as https://HOST:PORT" in shown
        assert "…" in shown and len(shown) < 200
        path = "/srv/share/" + "folder/" * 8 + "file.txt"  # 75 characters: shown whole
        status.show_many([("fail", f"{path} is gone", ""), ("fail", f"{path} is gone", "")])
        await pilot.pause()
        assert text_of(status) == f"✖ {path} is gone"


async def test_check_list_reset_forgets_every_result():
    checks = CheckList()
    app = WidgetApp(checks)
    async with app.run_test() as pilot:
        checks.begin([("a", "First"), ("b", "Second")])
        checks.record(CheckView("a", "First", "fail", "it broke", "do this"))
        await pilot.pause()
        checks.reset()
        await pilot.pause()
        assert [view.status for view in checks.views] == ["pending", "pending"]
        assert "it broke" not in " ".join(text_of(row) for row in checks.query(".check-row"))


async def test_summary_values_wrap_between_words():
    summary = Summary()
    app = WidgetApp(summary)
    async with app.run_test(size=(44, 10)) as pilot:
        summary.set_rows([("Connector", "Team wiki files (Zx1cE4oBq2r7sLuice01)")])
        await pilot.pause()
        assert summary.row_count == 1
        value = summary.query_one(".summary--value")
        lines = [strip.text.rstrip() for strip in value.render_lines(value.region.reset_offset)]
        assert lines[:2] == ["Team wiki files", "(Zx1cE4oBq2r7sLuice01)"]


def test_a_finished_sync_shows_its_documents_not_the_deletion_phase():
    """The deletion phase ends with the sync: no "Deleting · deleted 0 of 0" afterwards."""
    from sluice.core.engine.progress import Counters, Phase, ProgressSnapshot, SyncStatus

    running = ProgressSnapshot(
        Phase.DELETING, Counters(extracted=8), 1.0, 0.0, total=8, stale_total=3
    )
    assert running.in_deletion and running.shown_progress == (0, 3)
    done = ProgressSnapshot(
        Phase.DONE, Counters(extracted=8), 1.0, 0.0, 8, stale_total=0, status=SyncStatus.COMPLETED
    )
    assert not done.in_deletion and done.shown_progress == (8, 8) and done.fraction == 1.0


def test_the_end_of_sync_line_names_updated_and_unchanged_documents():
    """A second full sync of a folder updates every document and indexes none: the line must
    not read as if nothing was done."""
    from sluice.core.engine.progress import Counters
    from sluice.tui.screens.dashboard import finish_words

    assert finish_words(Counters(updated=1002)) == "0 new, 1,002 updated, 0 deleted, 0 failed."
    assert finish_words(Counters(indexed=5, unchanged=7, deleted=2, failed=1)) == (
        "5 new, 7 unchanged, 2 deleted, 1 failed."
    )

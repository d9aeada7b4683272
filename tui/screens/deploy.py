"""The Deploy view: the exact, copyable commands that run the service for this config.yml —
Elastic's connector service (Docker, source) at the cluster's version, or Sluice's own
(`sluice run`, a systemd unit it can write). The text comes from `core.deployment`; this
screen only shows it, copies it, and records which way the user started the service (the
check-in doctor reads that)."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TabbedContent, TabPane

from sluice.core.config import ConfigError
from sluice.core.workflows.deploy import Deployment, build_deployment, write_unit
from sluice.tui.widgets.badges import escape
from sluice.tui.widgets.field_status import FieldStatus


class DeploymentBuilt(Message):
    def __init__(self, deployment: Deployment | None, error: str = "") -> None:
        self.deployment = deployment
        self.error = error
        super().__init__()


class DeployScreen(ModalScreen[str | None]):
    """Returns the target the user said they started ("docker", …), or None."""

    BINDINGS = [Binding("escape", "close", "Close")]
    DEFAULT_CSS = """
    DeployScreen { align: center middle; }
    DeployScreen > VerticalScroll {
        width: 96%; max-width: 110; height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    DeployScreen #deploy-title { text-style: bold; margin-bottom: 1; }
    DeployScreen TabbedContent { height: auto; }
    DeployScreen .deploy-commands {
        background: $boost; padding: 0 1; margin: 1 0; height: auto;
    }
    DeployScreen .deploy-blocker { color: $text-error; }
    DeployScreen .deploy-notes { color: $text-muted; }
    DeployScreen .deploy-actions { height: auto; margin-top: 1; }
    DeployScreen .deploy-actions > Button { margin-right: 2; }
    DeployScreen #deploy-close-row { height: auto; margin-top: 1; }
    """

    def __init__(self, session) -> None:
        super().__init__()
        self.session = session
        self.deployment: Deployment | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Deploy the connector service", id="deploy-title")
            yield Static("Reading config.yml and the cluster's version…", id="deploy-intro")
            yield TabbedContent(id="deploy-tabs")
            yield FieldStatus(id="deploy-status")
            with Horizontal(id="deploy-close-row"):
                yield Button("Close (Esc)", id="deploy-close", compact=True)

    def on_mount(self) -> None:
        self._build()

    @work(exclusive=True, group="deploy")
    async def _build(self) -> None:
        state = self.session.state
        try:
            async with self.session.cluster() as cluster:
                version = await cluster.version()
        except Exception:
            version = None
        try:
            deployment = build_deployment(
                state.config_path or self.session.config_path,
                state.service_type,
                cluster_version=version,
                runs_in_sluice=not self.session.run_by_elastic,
            )
        except (ConfigError, OSError) as exc:
            self.post_message(DeploymentBuilt(None, str(exc)))
            return
        self.post_message(DeploymentBuilt(deployment))

    async def on_deployment_built(self, message: DeploymentBuilt) -> None:
        intro = self.query_one("#deploy-intro", Static)
        if message.deployment is None:
            intro.update(
                f"config.yml can't be read: {escape(message.error)}. Write it in step 4 first."
            )
            return
        self.deployment = deployment = message.deployment
        runner = (
            "Sluice's engine" if deployment.runner == "sluice" else "Elastic's connector service"
        )
        version = deployment.facts.cluster_version or "unknown"
        intro.update(
            f"Run by [b]{runner}[/b] · config {escape(str(deployment.facts.config_path))} · "
            f"Elasticsearch {escape(version)}. Copy the commands, run them where the service "
            "will live, then press “I started it this way”."
        )
        tabs = self.query_one("#deploy-tabs", TabbedContent)
        for target, plan in deployment.plans.items():
            pane = TabPane(plan.title, id=f"deploy-{target}")
            await tabs.add_pane(pane)
            parts: list = []
            if plan.blockers:
                parts.append(
                    Static(
                        "\n".join(f"[b]✖ {escape(b)}[/b]" for b in plan.blockers),
                        classes="deploy-blocker",
                    )
                )
            parts.append(Static(escape(plan.script), classes="deploy-commands"))
            if plan.unit_text:
                parts.append(Static(escape(plan.unit_text), classes="deploy-commands"))
            parts.append(
                Static("\n".join(f"• {escape(n)}" for n in plan.notes), classes="deploy-notes")
            )
            actions = Horizontal(classes="deploy-actions")
            await pane.mount(*parts, actions)
            buttons = [Button("Copy commands", id=f"copy-{target}", compact=True)]
            if plan.unit_text:
                buttons.append(Button("Write unit file", id=f"unit-{target}", compact=True))
            buttons.append(
                Button(
                    "I started it this way", id=f"started-{target}", variant="success", compact=True
                )
            )
            await actions.mount(*buttons)
        wanted = self.session.state.deploy_target
        if wanted in deployment.plans:
            tabs.active = f"deploy-{wanted}"
        else:
            tabs.active = f"deploy-{deployment.default_target}"

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        button_id = event.button.id or ""
        if button_id == "deploy-close":
            self.dismiss(None)
            return
        action, _, target = button_id.partition("-")
        if self.deployment is None or target not in self.deployment.plans:
            return
        event.stop()
        plan = self.deployment.plans[target]
        status = self.query_one("#deploy-status", FieldStatus)
        if action == "copy":
            self.app.copy_to_clipboard(plan.script)
            status.show("ok", f"copied the {plan.title} commands to the clipboard")
        elif action == "unit":
            destination = Path(self.deployment.facts.config_path).parent
            try:
                written = write_unit(self.deployment, destination)
            except (OSError, ValueError) as exc:
                status.show("fail", f"unit file not written: {exc}")
                return
            status.show("ok", f"wrote {written}", "copy it to ~/.config/systemd/user/ (above)")
        elif action == "started":
            state = self.session.state
            state.deploy_target = target
            state.service_version = str(plan.facts.get("tag") or "")
            self.session.save()
            self.dismiss(target)

    def action_close(self) -> None:
        self.dismiss(None)

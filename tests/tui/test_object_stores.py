"""Object stores set up in the wizard and synced by Sluice's engine, on the real servers of
scripts/services.sh: the prerequisites, the form, a test connection that fails on the right
field and then passes, and a sync to the end."""

from __future__ import annotations

import json

import pytest

from sluice.tui.app import SluiceApp
from sluice.tui.widgets.copyable import CopyableValue
from tests.sources.s3_server import Bucket, S3Server
from tests.tui.conftest import (
    SIZE,
    fill_elasticsearch,
    next_step,
    press_button,
    text_of,
    wait_for,
    wizard,
)
from tests.tui.test_local_sync import start_local_sync

pytestmark = pytest.mark.es


async def test_s3_from_prerequisites_to_a_sync(
    tmp_path, es_config, unique, cleanup_indices, s3_server: S3Server, bucket: Bucket
):
    bucket.put("notes/plan.txt", "The plan: rivers and mountains.")
    bucket.put("notes/agenda.txt", "Monday: kick-off")
    index = f"search-sluice-test-s3-{unique}"
    cleanup_indices.append(index)
    app = SluiceApp(str(tmp_path / "config.yml"), start_over=True, test_mode=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = wizard(app)
        await pilot.press(*"amazon s3")
        await pilot.press("enter", "enter")
        await wait_for(pilot, lambda: app.session.state.service_type == "s3", what="source")
        assert "Run by Sluice's engine" in text_of(screen.query_one("#prereq-runner"))
        ticks = screen.query_one("#prereq-list")
        prerequisites = " ".join(
            str(ticks.get_option_at_index(i).prompt) for i in range(ticks.option_count)
        )
        assert "s3:ListBucket" in prerequisites and "s3:GetObject" in prerequisites
        await next_step(pilot, app)
        await fill_elasticsearch(pilot, app, es_config)
        await next_step(pilot, app)
        screen.query_one("#connector-name").value = f"S3 {unique}"
        await next_step(pilot, app)
        await next_step(pilot, app)  # config.yml

        # 5. the form: the IAM policy follows the buckets typed (for AWS itself)
        step = screen.steps[4]
        await wait_for(pilot, lambda: screen.query("#input-buckets"), what="S3 form")
        form = step.form
        form.set_value("buckets", bucket.name)
        form.set_value("aws_access_key_id", s3_server.access_key)
        form.set_value("aws_secret_access_key", "not-the-secret")
        links = step.query_one("#setup-links")
        await wait_for(pilot, lambda: links.query(CopyableValue), what="IAM policy")
        policy = json.loads(links.query_one(CopyableValue).value)
        assert f"arn:aws:s3:::{bucket.name}/*" in json.dumps(policy)
        form.set_value("endpoint_url", s3_server.url)
        form.set_value("region", s3_server.region)
        await wait_for(pilot, lambda: not links.query(CopyableValue), what="policy gone")
        # a wrong secret: said under the secret's field
        await press_button(pilot, "#source-test-button")
        status = screen.query_one("#field-aws_secret_access_key-status")
        await wait_for(
            pilot,
            lambda: "secret key does not match" in text_of(status),
            timeout=30,
            what="secret error",
        )
        assert "not-the-secret" not in text_of(screen)
        form.set_value("aws_secret_access_key", s3_server.secret_key)
        await pilot.pause()
        await press_button(pilot, "#source-test-button")
        result = screen.query_one("#source-test")
        await wait_for(
            pilot, lambda: "It will sync" in text_of(result), timeout=30, what="test passed"
        )
        assert "1 bucket" in text_of(result)
        await next_step(pilot, app, timeout=60)

        # 6. the index, 7. the sync
        screen.query_one("#index-name").value = index
        await next_step(pilot, app)
        dashboard = await start_local_sync(pilot, app)
        await wait_for(
            pilot,
            lambda: "COMPLETED" in text_of(dashboard.query_one("#dash-status")),
            timeout=60,
            what="sync completed",
        )
        assert dashboard.feed.poll().snapshot.counters.indexed == 2
        await wait_for(
            pilot,
            lambda: text_of(dashboard.query_one("#counter-indexed")).split()[-1] == "2",
            what="the counters shown",
        )

"""The bill_difference rule end to end: statements fetched from the simulator's ``bills`` scenario (with its
planted discrepancies, see tests/test_bills.py), each statement and fuel that differs by more than the
threshold sent once through Apprise's JSON target to a local receiver, never again after a restart."""

from __future__ import annotations

from pathlib import Path

from octoscope.clock import frozen
from octoscope.outputs.notify import reconciled_statements
from octoscope.store.sqlite import Store
from tests.conftest import make_cli, simulator
from tests.outputs.conftest import receiver


def test_each_statement_that_differs_is_sent_once_across_restarts(tmp_path: Path) -> None:
    with simulator("bills", now="2026-11-21T09:00:00Z") as sim:
        cli = make_cli(sim, tmp_path)
        cli.ok("sync")
        with receiver() as (url, got):
            (cli.home / "config.toml").write_text(
                f'[notify]\nurls = ["{url}"]\nrules = []\nbill_difference_pence = 100\n'
            )
            before = cli.ok("notify", "send")  # no statements fetched yet
            cli.ok("bills")
            first = cli.ok("notify", "send")
            again = cli.ok("notify", "send")  # a process of its own: a restart
            later = cli.run("notify", "send", env={"OCTOSCOPE_NOW": "2026-11-22T09:00:00Z"})
    assert before.startswith("Sent 0, held back by the hourly limit 0, failed 0")
    assert first.startswith("Sent 4, held back by the hourly limit 0, failed 0"), first
    assert again.startswith("Sent 0, held back by the hourly limit 0, failed 0")
    assert later.stdout.startswith("Sent 0, held back by the hourly limit 0, failed 0"), later.stderr
    # June's standing charge (+63p) is within 100p; July's estimated read, August's correction and missed
    # export credit, October's smart charging at the off-peak rate are not.
    assert [g["title"] for g in got] == [
        "Your bill differs: electricity, 2026-07-01 to 2026-07-31",
        "Your bill differs: electricity, 2026-08-01 to 2026-08-31",
        "Your bill differs: export, 2026-08-01 to 2026-08-31",
        "Your bill differs: electricity, 2026-10-01 to 2026-10-31",
    ]
    bodies = [g["message"] for g in got]
    assert bodies[0].startswith(
        "Statement 2026-07-01 to 2026-07-31, electricity: Octopus charged £110.23, octoscope's costs are £104.91,"
        " a difference of +532p. Reason: Octopus billed "
    )
    assert bodies[0].endswith(": an estimated read.")
    assert bodies[2] == (
        "Statement 2026-08-01 to 2026-08-31, export: Octopus charged £0.00, octoscope's costs are -£24.67,"
        " a difference of +2467p. Reason: no export credit: octoscope has 24.67 earned."
    )
    assert "a difference of -195p. Reason: usage " in bodies[3]
    assert "smart charging billed at the off-peak rate" in bodies[3]
    sent = [line.strip().removeprefix("sent ") for line in first.splitlines()[1:]]
    assert all(key.startswith("bill_difference:A-DE30DE30:") for key in sent)
    assert len(set(sent)) == 4

    # serve asks each minute: the reconciliation is kept while the store and the day are unchanged, not after.
    now = frozen("2026-11-21T09:05:00Z").now()
    settings = cli.settings()
    with Store.open(cli.db) as store:
        held = reconciled_statements(store, settings, now)
        assert reconciled_statements(store, settings, now) is held
        store.forget_statements(settings.require_account(), [held[0]["id"]])
        fewer = reconciled_statements(store, settings, now)
    assert [s["id"] for s in fewer] == [s["id"] for s in held[1:]]

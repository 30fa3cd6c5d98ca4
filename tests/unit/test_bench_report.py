"""The figures `make bench` reports: percentiles, summaries, ratios and the capacity plan."""

from __future__ import annotations

import pytest

from bench import report


def test_percentile_interpolates_between_ranks_like_numpy() -> None:
    values = [4.0, 1.0, 3.0, 2.0]  # order must not matter
    assert report.percentile(values, 0.5) == 2.5
    assert report.percentile(values, 0.0) == 1.0
    assert report.percentile(values, 1.0) == 4.0
    # (n-1)*0.99 = 2.97: 3 + 0.97 * (4 - 3)
    assert report.percentile(values, 0.99) == pytest.approx(3.97)
    assert report.percentile([7.0], 0.95) == 7.0


def test_percentile_refuses_empty_input_and_bad_fractions() -> None:
    with pytest.raises(ValueError):
        report.percentile([], 0.5)
    with pytest.raises(ValueError):
        report.percentile([1.0], 50)


def test_summary_is_in_milliseconds() -> None:
    summary = report.summarize_ms([0.010, 0.020, 0.030, 0.040, 1.0])
    assert summary["n"] == 5
    assert summary["p50"] == 30.0
    assert summary["max"] == 1000.0
    assert summary["p99"] == pytest.approx(961.6)
    assert report.summarize_ms([]) == {"n": 0}


def test_growth_and_ratio() -> None:
    assert report.growth_percent(100.0, 115.0) == 15.0
    assert report.growth_percent(200.0, 100.0) == -50.0
    assert report.ratio(50.0, 200.0) == "0.25×"
    assert report.ratio(50.0, None) == "–"
    assert report.ratio(50.0, 0) == "–"


def test_peer_table_shows_each_figure_side_by_side() -> None:
    ours = {"parse": {"p50": 8.0}, "single_user": {"p50": 30.0}}
    stock = {"parse": {"p50": 16.0}, "single_user": {"p50": 120.0}}
    table = report.peer_table(ours, stock)
    assert "| parse p50 (/model/parse) | 8.0 ms | 16.0 ms | 0.50× |" in table
    assert "| 1 user: turn p50 | 30.0 ms | 120 ms | 0.25× |" in table
    # A figure only one side has is shown, with no ratio.
    assert "| 20 users, no pauses: turn p50 | – | – | – |" in table


def test_capacity_plan_from_cpu_per_message() -> None:
    scale = {
        "processes_1": {"cpu_ms_per_message_total": 25.0, "rasa_cpu_ms_per_message": 20.0},
        "processes_2": {"cpu_ms_per_message_total": 40.0, "rasa_cpu_ms_per_message": 30.0},
    }
    plan = report.capacity_plan(scale, cores=2, message_interval_seconds=20, conversations=1000)
    assert plan is not None
    assert plan["messages_per_second_per_core"] == 40.0  # 1000 ms / 25 ms
    assert plan["messages_per_second_per_process"] == 50.0  # 1000 ms / 20 ms of Rasa's thread
    assert plan["demand_messages_per_second"] == 50.0  # 1000 conversations / 20 s
    assert plan["cores_needed"] == 2  # 50 / (40 * 0.7) = 1.8
    assert plan["processes_needed"] == 2  # 50 / (50 * 0.7) = 1.4
    assert report.capacity_plan({}, 2, 20, 1000) is None


def test_paced_users_pause_before_each_message_with_the_same_draws_every_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    from aiohttp import web

    from bench import load

    async def reply(request: web.Request) -> web.Response:
        return web.json_response([{"recipient_id": "u", "text": "好的"}])

    pauses: list[float] = []

    async def recorded_pause(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(load, "pause", recorded_pause)

    async def phase(think: float) -> load.PhaseResult:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", reply)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            return await load.run_users(
                f"http://127.0.0.1:{port}", ["a", "b"], [["你好", "押金"]] * 2, 30, think
            )
        finally:
            await runner.cleanup()

    assert asyncio.run(phase(0.0)).errors == 0 and pauses == []
    first = asyncio.run(phase(3.0))
    first_pauses, pauses[:] = list(pauses), []
    asyncio.run(phase(3.0))
    assert first.errors == 0 and len(first.turns) == 4
    assert len(first_pauses) == 4 and all(pause > 0 for pause in first_pauses)
    assert sorted(pauses) == sorted(first_pauses)  # the same draws: runs are comparable

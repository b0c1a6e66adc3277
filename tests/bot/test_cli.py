"""The funnelbot command: help, usage errors, check, migrate, and one-line failures."""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import structlog

from bot.cli import EXIT_FAILURE, EXIT_USAGE, main
from bot.database import open_database
from bot.sandbox.server import BotApiSandbox
from funnel.clock import SystemClock
from funnel.definition import load_definition
from tests.bot.test_settings import NAMES
from tests.conftest import REPO, free_port


@pytest.fixture(autouse=True)
def workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    shutil.copy(REPO / "funnel.toml", tmp_path / "funnel.toml")
    yield tmp_path
    # main() configures logging for the process; leave none of it to the next test.
    logging.getLogger().handlers.clear()
    structlog.reset_defaults()


def test_help_explains_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])

    assert exited.value.code == 0
    out = capsys.readouterr().out
    for command in ("run", "migrate", "check", "demo"):
        assert command in out


@pytest.mark.parametrize("command", ["run", "migrate", "check", "demo"])
def test_every_command_has_its_own_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])

    assert exited.value.code == 0
    assert f"usage: funnelbot {command}" in capsys.readouterr().out


def test_a_wrong_argument_is_named_with_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["check", "--verbose"])

    assert exited.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("usage: funnelbot")
    assert "unrecognized arguments: --verbose" in err.splitlines()[-1]


def test_an_unknown_command_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve"])

    assert exited.value.code == EXIT_USAGE
    assert "invalid choice: 'serve'" in capsys.readouterr().err


def test_check_summarizes_a_valid_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0

    out = capsys.readouterr().out
    assert "mode:        offline demo (no BOT_TOKEN)" in out
    assert "1. started    ← bot_started" in out
    assert "8. repeat     ← order_paid (occurrence 2)" in out
    assert (
        "cart reminders: after 1h idle: 1h, 20h with a coupon; holdout 0 %; "
        "direct links (no PUBLIC_URL)"
    ) in out
    assert (
        "delivery messages: shipped, in_transit, out_for_delivery, ready_for_pickup, delivered,"
        " delivery_failed, returned, cancelled"
    ) in out
    assert "stale CDEK parcel lookups: off (set CDEK_CLIENT_ID and CDEK_CLIENT_SECRET)" in out


def test_check_reports_a_bad_setting_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHOP_TIMEZONE", "Mars/Olympus")

    assert main(["check"]) == EXIT_FAILURE

    err = capsys.readouterr().err
    assert err == (
        "funnelbot: SHOP_TIMEZONE: 'Mars/Olympus' is not an IANA time zone such as Europe/Moscow\n"
    )


def test_check_reports_funnel_file_errors_with_their_lines(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (workdir / "funnel.toml").read_text().replace("occurrence = 2", "occurrence = 0")
    (workdir / "funnel.toml").write_text(text)

    assert main(["check"]) == EXIT_FAILURE

    line = next(n for n, t in enumerate(text.splitlines(), 1) if "occurrence = 0" in t)
    assert capsys.readouterr().err == (
        f"funnelbot: funnel.toml:{line}: stages[7].occurrence: "
        "Input should be greater than or equal to 1\n"
    )


def test_migrate_applies_then_reports_up_to_date(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    files = sorted(path.name for path in (REPO / "migrations").glob("*.sql"))
    assert capsys.readouterr().out == "".join(f"applied {name}\n" for name in files)
    assert files[0] == "0001_customers_and_events.sql"
    assert (workdir / "var" / "funnel.sqlite3").exists()

    assert main(["migrate"]) == 0
    assert capsys.readouterr().out == "the database is up to date\n"


def test_a_corrupt_database_is_one_line_not_a_traceback(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "broken.sqlite3").write_bytes(b"\x00garbage" * 1000)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///broken.sqlite3")

    assert main(["migrate"]) == EXIT_FAILURE

    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("funnelbot: database broken.sqlite3 is corrupt or not a SQLite")


def test_run_without_a_token_plays_the_demo_and_says_how_to_go_live(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run"]) == 0

    out = capsys.readouterr().out
    assert out.startswith("BOT_TOKEN is not set, so this is the offline demo.")
    assert "put BOT_TOKEN=<token from @BotFather> in .env" in out
    assert "What the funnel recorded:" in out


def test_an_unreachable_bot_api_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123456789:AAH-abcdefghijklmnopqrstuvwxyz012345")
    # A port nothing listens on: connecting is refused at once.
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PORT", str(free_port()))

    assert main(["run"]) == EXIT_FAILURE

    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith(
        "funnelbot: cannot reach the Bot API at TELEGRAM_API_URL:"
    )
    assert "Traceback" not in err


def test_a_token_telegram_refuses_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123456789:AAH-not-the-sandbox-token-at-all-xyz")
    monkeypatch.setenv("HTTP_PORT", str(free_port()))

    with sandbox_in_thread() as url:
        monkeypatch.setenv("TELEGRAM_API_URL", url)
        assert main(["run"]) == EXIT_FAILURE

    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (
        "funnelbot: Telegram refused BOT_TOKEN (401 Unauthorized): check the token"
    )
    assert "Traceback" not in err


@contextmanager
def sandbox_in_thread() -> Iterator[str]:
    """The sandbox on its own loop, so that main() can own the main thread and its signals."""
    ready = threading.Event()
    url: list[str] = []
    stop: list[asyncio.Event] = []
    loop: list[asyncio.AbstractEventLoop] = []

    async def serve() -> None:
        async with BotApiSandbox() as sandbox:
            url.append(sandbox.url)
            stop.append(asyncio.Event())
            loop.append(asyncio.get_running_loop())
            ready.set()
            await stop[0].wait()

    thread = threading.Thread(target=asyncio.run, args=(serve(),))
    thread.start()
    assert ready.wait(timeout=10), "the sandbox did not start"
    try:
        yield url[0]
    finally:
        loop[0].call_soon_threadsafe(stop[0].set)
        thread.join()


def test_links_prints_every_offered_magnet_and_source(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["links"]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["tea_guide", "vk", "https://t.me/your_bot?start=tea_guide--vk"]
    shipped = load_definition(REPO / "funnel.toml")
    offered = [m for m in shipped.magnets if m.offered]
    assert len(out) == len(offered) * len(shipped.sources) + 1
    # The cart reminders' discount is handed out by the bot only, never by a link.
    assert not any("cart_rescue" in line for line in out)
    assert out[-1].startswith("(set BOT_TOKEN")


def test_coupons_load_into_a_pool(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "codes.txt").write_text("TEA-1\nTEA-2\n\nTEA-2\n")
    (workdir / "bad.txt").write_text("TEA-3\nnot a code!\n")

    assert main(["coupons", "load", "codes.txt", "--pool", "welcome10"]) == 0
    assert capsys.readouterr().out == "loaded 2 code(s) into welcome10, 1 already known; 2 free\n"
    assert main(["coupons", "load", "bad.txt", "--pool", "welcome10"]) == EXIT_FAILURE
    assert capsys.readouterr().err == (
        "funnelbot: bad.txt: 1 line(s) are not coupon codes, e.g. 'not a code!'\n"
    )


def test_check_names_each_webhook_url_to_register(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHOPIFY_WEBHOOK_SECRETS", "old-secret,new-secret")
    monkeypatch.setenv("CDEK_WEBHOOK_TOKEN", "cdek-token-0123456789")
    monkeypatch.setenv("PUBLIC_URL", "https://bot.shop.example")
    monkeypatch.setenv("WEBHOOK_SECRET", "telegram-secret")

    assert main(["check"]) == 0

    out = capsys.readouterr().out
    assert "  shopify      https://bot.shop.example/webhooks/shopify\n" in out
    assert "  cdek         https://bot.shop.example/webhooks/cdek/cdek-token-0123456789\n" in out
    assert "  woocommerce  off (set WOOCOMMERCE_WEBHOOK_SECRET)\n" in out
    assert "old-secret" not in out


def test_replay_processes_failed_deliveries_again(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def keep_failed() -> None:
        store = await open_database("sqlite:///var/funnel.sqlite3", SystemClock())
        async with store.transaction() as tx:
            body = b'{"id": 5, "order_id": 6, "updated_at": "yesterday"}'
            inbox_id = await tx.receive("shopify", "d-1", "fulfillments/create", {}, body, 0)
            assert inbox_id is not None
            await tx.fail_delivery(inbox_id, "updated_at: not a time", 0)
        await store.close()

    asyncio.run(keep_failed())

    assert main(["replay", "--failed"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("replayed 1: 0 processed, 1 failed\n")
    assert "#1 shopify fulfillments/create: fulfillments/create: updated_at:" in out
    assert main(["replay", "7"]) == EXIT_FAILURE
    assert capsys.readouterr().err == "funnelbot: there is no delivery #7 in the inbox\n"
    with pytest.raises(SystemExit) as usage:
        main(["replay"])
    assert usage.value.code == EXIT_USAGE

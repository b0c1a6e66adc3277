"""Running funnelbot's own commands against a fresh database, and writing import files."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from bot.cli import main
from funnel.templates import MESSAGES
from tests.bot.test_settings import NAMES
from tests.conftest import REPO

FOUR_STAGES = """
default_language = "en"
languages = ["en"]

[[stages]]
name = "started"
title = { en = "Started" }
events = ["bot_started"]

[[stages]]
name = "lead"
title = { en = "Lead" }
events = ["magnet_delivered"]

[[stages]]
name = "cart"
title = { en = "Cart" }
events = ["cart_updated"]

[[stages]]
name = "order"
title = { en = "Order" }
events = ["order_created"]
"""

Cli = Callable[..., tuple[int, str, str]]
Rows = list[dict[str, Any]]


@pytest.fixture
def shop(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A working folder with the shipped funnel file and a Moscow shop."""
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    shutil.copy(REPO / "funnel.toml", tmp_path / "funnel.toml")
    monkeypatch.setenv("SHOP_TIMEZONE", "Europe/Moscow")
    yield tmp_path
    logging.getLogger().handlers.clear()
    structlog.reset_defaults()


@pytest.fixture
def four_stages(shop: Path) -> Path:
    (shop / "funnel.toml").write_text(
        FOUR_STAGES + "\n".join(f'[templates.{name}]\nen = "text"\n' for name in MESSAGES)
    )
    return shop


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def write_jsonl(path: Path, rows: Rows) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    return path


def event(customer: str, kind: str, at: str, **extra: Any) -> dict[str, Any]:
    return {"customer": customer, "event": kind, "occurred_at": at, **extra}


def report_json(cli: Cli, *args: str) -> dict[str, Any]:
    code, out, err = cli("report", *args, "--json")
    assert code == 0, err
    [line] = out.splitlines()
    result: dict[str, Any] = json.loads(line)
    return result


def counts(report: dict[str, Any]) -> list[int]:
    return [stage["customers"] for stage in report["stages"]]

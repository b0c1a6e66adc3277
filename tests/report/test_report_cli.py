"""Reports through the command line: hand-computed funnels, imported as a shop would."""

from __future__ import annotations

import csv
import io
import struct
from pathlib import Path

import pytest
from matplotlib.image import imread

from tests.report.conftest import Cli, Rows, counts, event, report_json, write_jsonl

NOV = ("--from", "2026-11-01", "--to", "2026-11-30")


def playbook_rows() -> Rows:
    """1000 customers start; 520 take the magnet; 215 fill a cart; 130 order."""
    rows: Rows = []
    for n in range(1000):
        customer = f"tg:{n + 1}"
        rows.append(event(customer, "bot_started", "2026-11-03T10:00:00+03:00", source="vk"))
        if n < 520:
            rows.append(event(customer, "magnet_delivered", "2026-11-03T10:05:00+03:00"))
        if n < 215:
            rows.append(event(customer, "cart_updated", "2026-11-04T10:05:00+03:00"))
        if n < 130:
            rows.append(event(customer, "order_created", "2026-11-05T12:05:00+03:00"))
    return rows


def test_the_playbook_example_reproduces_exactly(four_stages: Path, cli: Cli) -> None:
    write_jsonl(four_stages / "history.jsonl", playbook_rows())
    assert cli("import", "history.jsonl")[0] == 0

    report = report_json(cli, *NOV)
    code, text, _ = cli("report", *NOV)

    assert counts(report) == [1000, 520, 215, 130]
    stages = report["stages"]
    assert [s["conversion_from_previous"] for s in stages] == [None, 0.52, 215 / 520, 130 / 215]
    assert [s["conversion_from_first"] for s in stages] == [1.0, 0.52, 0.215, 0.13]
    assert [s["dropped"] for s in stages] == [0, 480, 305, 85]
    assert [s["median_seconds_from_previous"] for s in stages] == [None, 300.0, 86400.0, 93600.0]
    assert report["window_days"] == 30 and report["mode"] == "cohort"
    assert code == 0
    for figure in ("52%", "41.3%", "60.5%", "Overall conversion: 13%"):
        assert figure in text
    assert "followed for 30 d" in text


def test_out_of_order_files_give_the_same_funnel_as_ordered_ones(
    four_stages: Path, cli: Cli
) -> None:
    rows = playbook_rows()[:400]
    write_jsonl(four_stages / "ordered.jsonl", rows)
    assert cli("import", "ordered.jsonl")[0] == 0
    ordered = report_json(cli, *NOV)
    (four_stages / "var" / "funnel.sqlite3").unlink()
    write_jsonl(four_stages / "reversed.jsonl", rows[::-1])

    assert cli("import", "reversed.jsonl")[0] == 0

    assert report_json(cli, *NOV) == ordered


def test_stages_count_only_in_order(four_stages: Path, cli: Cli) -> None:
    write_jsonl(
        four_stages / "h.jsonl",
        [
            # A cart before the start does not count; the skipped lead stops the chain.
            event("tg:1", "cart_updated", "2026-11-02T09:00:00+03:00"),
            event("tg:1", "bot_started", "2026-11-02T10:00:00+03:00"),
            event("tg:1", "cart_updated", "2026-11-02T11:00:00+03:00"),
            # The lead comes only after the cart: the cart before it does not count either.
            event("tg:2", "bot_started", "2026-11-02T10:00:00+03:00"),
            event("tg:2", "cart_updated", "2026-11-02T10:30:00+03:00"),
            event("tg:2", "magnet_delivered", "2026-11-02T11:00:00+03:00"),
            # In order, with the same time for two stages: both count.
            event("tg:3", "bot_started", "2026-11-02T10:00:00+03:00"),
            event("tg:3", "magnet_delivered", "2026-11-02T10:00:00+03:00"),
            event("tg:3", "cart_updated", "2026-11-02T12:00:00+03:00"),
        ],
    )
    assert cli("import", "h.jsonl")[0] == 0

    assert counts(report_json(cli, *NOV)) == [3, 2, 1, 0]


def test_the_window_includes_its_last_second_and_not_the_next(four_stages: Path, cli: Cli) -> None:
    write_jsonl(
        four_stages / "h.jsonl",
        [
            event("tg:1", "bot_started", "2026-11-01T12:00:00+00:00"),
            event("tg:1", "magnet_delivered", "2026-11-08T12:00:00+00:00"),
            event("tg:2", "bot_started", "2026-11-01T12:00:00+00:00"),
            event("tg:2", "magnet_delivered", "2026-11-08T12:00:01+00:00"),
        ],
    )
    assert cli("import", "h.jsonl")[0] == 0

    assert counts(report_json(cli, *NOV, "--window", "7d")) == [2, 1, 0, 0]
    assert counts(report_json(cli, *NOV, "--window", "8d")) == [2, 2, 0, 0]


def test_cohort_and_calendar_count_the_same_data_differently(four_stages: Path, cli: Cli) -> None:
    write_jsonl(
        four_stages / "h.jsonl",
        [
            # Started in October, ordered in November: November's calendar, October's cohort.
            event("tg:1", "bot_started", "2026-10-30T10:00:00+03:00"),
            event("tg:1", "magnet_delivered", "2026-10-30T10:01:00+03:00"),
            event("tg:1", "cart_updated", "2026-11-02T10:00:00+03:00"),
            event("tg:1", "order_created", "2026-11-02T11:00:00+03:00"),
            # Started in November, nothing more.
            event("tg:2", "bot_started", "2026-11-03T10:00:00+03:00"),
        ],
    )
    assert cli("import", "h.jsonl")[0] == 0

    cohort = report_json(cli, *NOV)
    calendar = report_json(cli, *NOV, "--mode", "calendar")
    _, text, _ = cli("report", *NOV, "--mode", "calendar")

    assert counts(cohort) == [1, 0, 0, 0]
    assert counts(calendar) == [1, 0, 1, 1]
    assert calendar["stages"][2]["dropped"] == -1
    assert "counts mix cohorts" in text


def test_period_boundaries_follow_the_shop_time_zone(four_stages: Path, cli: Cli) -> None:
    write_jsonl(
        four_stages / "h.jsonl",
        [
            event("tg:1", "bot_started", "2026-10-31T21:30:00+00:00"),  # 00:30 on 1 Nov, MSK
            event("tg:2", "bot_started", "2026-10-31T20:59:59+00:00"),  # 23:59:59 on 31 Oct
            event("tg:3", "bot_started", "2026-11-30T20:59:59+00:00"),  # 23:59:59 on 30 Nov
            event("tg:4", "bot_started", "2026-11-30T21:00:00+00:00"),  # 00:00 on 1 Dec
        ],
    )
    assert cli("import", "h.jsonl")[0] == 0

    assert counts(report_json(cli, *NOV))[0] == 2
    assert counts(report_json(cli, "--from", "2026-10-31", "--to", "2026-10-31"))[0] == 1


def test_an_empty_period_shows_dashes_and_never_divides_by_zero(
    four_stages: Path, cli: Cli
) -> None:
    report = report_json(cli, *NOV)
    code, text, _ = cli("report", *NOV)

    assert counts(report) == [0, 0, 0, 0]
    assert all(s["conversion_from_previous"] is None for s in report["stages"])
    assert all(s["conversion_from_first"] is None for s in report["stages"])
    assert code == 0 and "No customers in this period." in text
    assert "—" in text


@pytest.mark.parametrize("by", ["source", "magnet", "platform", "new_vs_returning"])
def test_breakdown_rows_sum_to_the_totals(shop: Path, cli: Cli, by: str) -> None:
    rows: Rows = []
    for n in range(60):
        customer = f"tg:{n}"
        if n % 5 == 0:
            rows.append(event(customer, "order_paid", "2026-10-01T10:00:00+03:00"))
        rows.append(
            event(customer, "bot_started", "2026-11-02T10:00:00+03:00", source=f"s{n % 3}")
        )
        if n % 2:
            rows.append(
                event(customer, "magnet_delivered", "2026-11-02T10:01:00+03:00",
                      properties={"magnet": f"m{n % 4}"})
            )  # fmt: skip
        if n % 4 == 1:
            rows.append(
                event(customer, "cart_updated", "2026-11-02T11:00:00+03:00",
                      platform=["shopify", "woocommerce"][n % 2 * (n % 3 == 0)])
            )  # fmt: skip
    write_jsonl(shop / "h.jsonl", rows)
    assert cli("import", "h.jsonl")[0] == 0

    for mode in ("cohort", "calendar"):
        report = report_json(cli, *NOV, "--mode", mode, "--by", by)
        groups = report["breakdown"].values()
        assert len(groups) >= 2
        for index, stage in enumerate(report["stages"]):
            assert sum(group[index]["customers"] for group in groups) == stage["customers"]


def test_the_chart_is_a_png_of_the_promised_size(four_stages: Path, cli: Cli) -> None:
    write_jsonl(four_stages / "h.jsonl", playbook_rows()[:50])
    assert cli("import", "h.jsonl")[0] == 0

    code, out, _ = cli("chart", *NOV, "--by", "source", "--out", "funnel.png")

    png = (four_stages / "funnel.png").read_bytes()
    assert code == 0 and out == "wrote funnel.png\n"
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (1080, 1350)
    assert imread(io.BytesIO(png)).shape[:2] == (1350, 1080)


def test_import_reports_each_invalid_row_and_imports_nothing(shop: Path, cli: Cli) -> None:
    (shop / "h.jsonl").write_text(
        '{"customer": "tg:1", "event": "bot_started", "occurred_at": "2026-11-02T10:00:00Z"}\n'
        '{"customer": "tg:2", "event": "bot_started", "occurred_at": "2026-11-02T10:00:00"}\n'
        "not json\n"
        '{"customer": "tg:3", "event": "Paid!", "occurred_at": "2026-11-02T10:00:00Z"}\n'
        '{"customer": "tg:4", "event": "order_paid", "occurred_at": "2026-11-02T10:00:00Z",'
        ' "properties": [1]}\n'
    )

    code, _, err = cli("import", "h.jsonl")

    lines = err.splitlines()
    assert code == 1
    assert lines[0] == ("funnelbot: line 2: occurred_at: '2026-11-02T10:00:00' has no UTC offset")
    assert lines[1].startswith("funnelbot: line 3: not a JSON object")
    assert lines[2] == (
        "funnelbot: line 4: event: 'Paid!' is not an event type (lower_snake_case)"
    )
    assert lines[3] == "funnelbot: line 5: properties: must be a JSON object"
    assert "nothing was imported: 4 invalid row(s)" in lines[4]
    assert counts(report_json(cli, *NOV))[0] == 0

    code, out, _ = cli("import", "h.jsonl", "--skip-invalid")

    assert code == 0 and "imported 1 event(s)" in out
    assert "skipped line 2" in out
    assert counts(report_json(cli, *NOV))[0] == 1


def test_importing_twice_and_duplicate_rows_change_nothing(shop: Path, cli: Cli) -> None:
    started = event("tg:1", "bot_started", "2026-11-02T10:00:00+03:00", source="vk")
    write_jsonl(shop / "h.jsonl", [started, started, event("crm:77", "bot_started",
                "2026-11-02T11:00:00+03:00", id="crm-row-1")])  # fmt: skip

    first = cli("import", "h.jsonl")
    second = cli("import", "h.jsonl")

    assert first[1] == (
        "imported 2 event(s), 1 duplicate(s) skipped, for 2 customer(s), 2 of them new\n"
    )
    assert second[1] == (
        "imported 0 event(s), 3 duplicate(s) skipped, for 2 customer(s), 0 of them new\n"
    )
    assert counts(report_json(cli, *NOV))[0] == 2


def test_csv_imports_like_json_lines(shop: Path, cli: Cli) -> None:
    (shop / "h.csv").write_text(
        "customer,event,occurred_at,source,properties\n"
        "tg:1,bot_started,2026-11-02T10:00:00+03:00,vk,\n"
        'tg:1,magnet_delivered,2026-11-02T10:01:00+03:00,,"{""magnet"": ""guide""}"\n'
        "tg:2,bot_started,not-a-time,vk,\n"
    )

    code, _, err = cli("import", "h.csv")
    assert code == 1 and "line 4: occurred_at: 'not-a-time' is not an ISO 8601 time" in err

    assert cli("import", "h.csv", "--skip-invalid")[0] == 0
    report = report_json(cli, *NOV, "--by", "magnet")
    assert counts(report)[:2] == [1, 1]
    assert list(report["breakdown"]) == ["guide"]


def test_report_rejects_a_backwards_period(shop: Path, cli: Cli) -> None:
    code, _, err = cli("report", "--from", "2026-11-30", "--to", "2026-11-01")

    assert code == 2
    assert err == "funnelbot: the period ends (2026-11-01) before it starts (2026-11-30)\n"


def test_changed_stages_ask_for_a_rebuild_and_rebuild_fixes_it(
    four_stages: Path, cli: Cli
) -> None:
    write_jsonl(four_stages / "h.jsonl", playbook_rows()[:30])
    assert cli("import", "h.jsonl")[0] == 0
    funnel = four_stages / "funnel.toml"
    funnel.write_text(funnel.read_text().replace('events = ["cart_updated"]',
                      'events = ["cart_updated", "checkout_started"]'))  # fmt: skip

    code, _, err = cli("report", *NOV)
    assert code == 1 and "run `funnelbot rebuild` first" in err

    code, out, _ = cli("rebuild")
    assert code == 0 and out == "funnel progress rebuilt for 4 stages\n"
    assert cli("report", *NOV)[0] == 0


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_missing_or_binary_file_is_one_line(shop: Path, cli: Cli) -> None:
    (shop / "photo.jsonl").write_bytes(b"\xff\xd8\xff\xe0 not text")

    missing = cli("import", "nowhere.jsonl")
    binary = cli("import", "photo.jsonl")

    assert (
        missing[0] == 1 and missing[2] == "funnelbot: No such file or directory: nowhere.jsonl\n"
    )
    assert binary[0] == 1 and binary[2] == "funnelbot: photo.jsonl is not UTF-8 text (byte 0)\n"

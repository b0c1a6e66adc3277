"""Packed columns of progress, one segment per UTC day, so reports read arrays instead of rows.

A cohort segment holds the customers whose first stage falls on its day: start time, the offsets
of later stages (-1 where not reached) and their breakdown attributes. A calendar segment holds
every stage hit on its day: stage, customer, time and the customer's attributes. Attributes are
stored as codes into per-segment label lists; merging segments maps them onto one list.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from funnel.progress import Progress

DAY_MS = 86_400_000
ATTRIBUTES = ("source", "magnet", "platform")
NOT_REACHED = -1

Ints = npt.NDArray[np.int64]
Codes = npt.NDArray[np.int32]
Flags = npt.NDArray[np.int8]


def day_of(ms: int) -> int:
    return ms // DAY_MS


@dataclass(frozen=True, slots=True)
class Attributes:
    """Breakdown values, one code array per attribute with its labels, and the returning flag."""

    codes: dict[str, Codes]
    labels: dict[str, list[str]]
    returning: Flags

    @classmethod
    def encode(cls, rows: Sequence[Progress | None]) -> Attributes:
        codes: dict[str, Codes] = {}
        labels: dict[str, list[str]] = {}
        for name in ATTRIBUTES:
            values = [getattr(row, name) if row else "(none)" for row in rows]
            unique = sorted(set(values))
            index = {label: code for code, label in enumerate(unique)}
            codes[name] = np.fromiter((index[v] for v in values), np.int32, len(values))
            labels[name] = unique
        returning = np.fromiter((bool(row and row.returning) for row in rows), np.int8, len(rows))
        return cls(codes, labels, returning)

    def take(self, mask: npt.NDArray[np.bool_]) -> Attributes:
        return Attributes(
            {name: codes[mask] for name, codes in self.codes.items()},
            self.labels,
            self.returning[mask],
        )


@dataclass(frozen=True, slots=True)
class CohortColumns:
    started: Ints
    offsets: Ints  # shape (customers, stages - 1)
    attributes: Attributes


@dataclass(frozen=True, slots=True)
class CalendarColumns:
    stage: Flags
    customer: Ints
    at: Ints
    attributes: Attributes


def pack_cohort(rows: Sequence[Progress], stages: int) -> bytes:
    offsets = np.full((len(rows), stages - 1), NOT_REACHED, np.int64)
    for i, row in enumerate(rows):
        offsets[i, : len(row.chain)] = [t - row.started_ms for t in row.chain]
    started = np.fromiter((row.started_ms for row in rows), np.int64, len(rows))
    return _pack({"started": started, "offsets": offsets}, Attributes.encode(rows))


def pack_calendar(hits: Sequence[tuple[int, int, int, Progress | None]]) -> bytes:
    """hits: (stage, customer id, time in ms, the customer's progress if they ever started)."""
    stage = np.fromiter((h[0] for h in hits), np.int8, len(hits))
    customer = np.fromiter((h[1] for h in hits), np.int64, len(hits))
    at = np.fromiter((h[2] for h in hits), np.int64, len(hits))
    attributes = Attributes.encode([h[3] for h in hits])
    return _pack({"stage": stage, "customer": customer, "at": at}, attributes)


def merge_cohort(segments: Sequence[bytes], stages: int, by: str | None = None) -> CohortColumns:
    """The segments' rows as one set of columns; attributes only for the breakdown `by`."""
    columns, attributes = _merge([_unpack(s) for s in segments], by)
    started = columns.get("started", np.empty(0, np.int64)).astype(np.int64, copy=False)
    offsets = columns.get("offsets", np.empty((0, stages - 1), np.int64))
    return CohortColumns(
        started, offsets.astype(np.int64, copy=False).reshape(-1, stages - 1), attributes
    )


def merge_calendar(segments: Sequence[bytes], by: str | None = None) -> CalendarColumns:
    """The segments' rows as one set of columns; attributes only for the breakdown `by`."""
    columns, attributes = _merge([_unpack(s) for s in segments], by)
    return CalendarColumns(
        columns.get("stage", np.empty(0, np.int8)).astype(np.int8, copy=False),
        columns.get("customer", np.empty(0, np.int64)).astype(np.int64, copy=False),
        columns.get("at", np.empty(0, np.int64)).astype(np.int64, copy=False),
        attributes,
    )


Unpacked = tuple[dict[str, npt.NDArray[np.generic]], Attributes]


def _pack(columns: dict[str, npt.NDArray[np.generic]], attributes: Attributes) -> bytes:
    arrays = {**columns, **{f"code:{k}": v for k, v in attributes.codes.items()}}
    arrays["returning"] = attributes.returning
    header = {
        "arrays": [[name, str(a.dtype), list(a.shape)] for name, a in arrays.items()],
        "labels": attributes.labels,
    }
    encoded = json.dumps(header, ensure_ascii=False).encode()
    body = b"".join(np.ascontiguousarray(a).tobytes() for a in arrays.values())
    return struct.pack("<I", len(encoded)) + encoded + body


def _unpack(data: bytes) -> Unpacked:
    (length,) = struct.unpack_from("<I", data)
    header = json.loads(data[4 : 4 + length])
    position = 4 + length
    arrays: dict[str, npt.NDArray[np.generic]] = {}
    for name, dtype, shape in header["arrays"]:
        count = int(np.prod(shape)) if shape else 1
        array = np.frombuffer(data, np.dtype(dtype), count, position).reshape(shape)
        position += array.nbytes
        arrays[name] = array
    codes = {name: arrays.pop(f"code:{name}").astype(np.int32) for name in ATTRIBUTES}
    returning = arrays.pop("returning").astype(np.int8)
    return arrays, Attributes(codes, header["labels"], returning)


def _merge(
    parts: list[Unpacked], by: str | None
) -> tuple[dict[str, npt.NDArray[np.generic]], Attributes]:
    # Only the breakdown asked for is merged: remapping codes costs as much as the counting.
    wanted = [name for name in ATTRIBUTES if name == by]
    labels = {name: sorted({lab for _, a in parts for lab in a.labels[name]}) for name in wanted}
    index = {name: {lab: i for i, lab in enumerate(labels[name])} for name in wanted}
    codes: dict[str, list[Codes]] = {name: [] for name in wanted}
    columns: dict[str, list[npt.NDArray[np.generic]]] = {}
    returning: list[Flags] = []
    for arrays, attributes in parts:
        for name in wanted:
            mapping = np.array([index[name][lab] for lab in attributes.labels[name]], np.int32)
            local = attributes.codes[name]
            codes[name].append(mapping[local] if len(mapping) else local)
        for name, array in arrays.items():
            columns.setdefault(name, []).append(array)
        returning.append(attributes.returning)
    merged_codes = {
        name: np.concatenate(codes[name]) if codes[name] else np.empty(0, np.int32)
        for name in wanted
    }
    merged = {name: np.concatenate(arrays) for name, arrays in columns.items()}
    flags = np.concatenate(returning) if returning else np.empty(0, np.int8)
    return merged, Attributes(merged_codes, labels, flags)

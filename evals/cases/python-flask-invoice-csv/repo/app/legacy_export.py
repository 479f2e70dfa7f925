"""Frozen: the XLS export kept for the old accounting system."""


def export_xls(rows: list[list[str]]) -> bytes:
    return b"".join(",".join(row).encode() + b"\n" for row in rows)

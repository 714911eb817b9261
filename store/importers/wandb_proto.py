"""The part of W&B's `Record` protobuf that `mmtop import wandb` reads, built at run time.

The field numbers are those of `wandb/proto/wandb_internal.proto` (wandb 0.31). Only the
messages the importer maps are described; every other field and record type of a `.wandb`
file parses as unknown fields, which protobuf skips. The descriptor lives in a private pool,
so it never meets wandb's own generated classes when wandb is installed too. Config,
summary and history items share one wire shape (`key`, `nested_key`, `value_json`), and so
do config and summary records (`update`, `remove`): one message each stands for them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from .model import ImportError_

_PACKAGE = "mmtop_wandb"

# (message, [(field, number, type, label, message type or None, in the record_type oneof)])
_STRING, _INT64, _INT32, _BOOL, _MESSAGE = "string", "int64", "int32", "bool", "message"
_OPTIONAL, _REPEATED = "optional", "repeated"

_MESSAGES: list[tuple[str, list[tuple[str, int, str, str, str | None, bool]]]] = [
    ("Timestamp", [("seconds", 1, _INT64, _OPTIONAL, None, False),
                   ("nanos", 2, _INT32, _OPTIONAL, None, False)]),
    ("Item", [("key", 1, _STRING, _OPTIONAL, None, False),
              ("nested_key", 2, _STRING, _REPEATED, None, False),
              ("value_json", 16, _STRING, _OPTIONAL, None, False)]),
    ("Items", [("update", 1, _MESSAGE, _REPEATED, "Item", False),
               ("remove", 2, _MESSAGE, _REPEATED, "Item", False)]),
    ("HistoryStep", [("num", 1, _INT64, _OPTIONAL, None, False)]),
    ("HistoryRecord", [("item", 1, _MESSAGE, _REPEATED, "Item", False),
                       ("step", 2, _MESSAGE, _OPTIONAL, "HistoryStep", False)]),
    ("GitRepoRecord", [("remote_url", 1, _STRING, _OPTIONAL, None, False),
                       ("commit", 2, _STRING, _OPTIONAL, None, False)]),
    ("RunRecord", [("run_id", 1, _STRING, _OPTIONAL, None, False),
                   ("entity", 2, _STRING, _OPTIONAL, None, False),
                   ("project", 3, _STRING, _OPTIONAL, None, False),
                   ("config", 4, _MESSAGE, _OPTIONAL, "Items", False),
                   ("summary", 5, _MESSAGE, _OPTIONAL, "Items", False),
                   ("run_group", 6, _STRING, _OPTIONAL, None, False),
                   ("job_type", 7, _STRING, _OPTIONAL, None, False),
                   ("display_name", 8, _STRING, _OPTIONAL, None, False),
                   ("notes", 9, _STRING, _OPTIONAL, None, False),
                   ("tags", 10, _STRING, _REPEATED, None, False),
                   ("sweep_id", 12, _STRING, _OPTIONAL, None, False),
                   ("host", 13, _STRING, _OPTIONAL, None, False),
                   ("start_time", 17, _MESSAGE, _OPTIONAL, "Timestamp", False),
                   ("resumed", 18, _BOOL, _OPTIONAL, None, False),
                   ("git", 21, _MESSAGE, _OPTIONAL, "GitRepoRecord", False)]),
    ("RunExitRecord", [("exit_code", 1, _INT32, _OPTIONAL, None, False),
                       ("runtime", 2, _INT32, _OPTIONAL, None, False)]),
    ("Record", [("num", 1, _INT64, _OPTIONAL, None, False),
                ("history", 2, _MESSAGE, _OPTIONAL, "HistoryRecord", True),
                ("summary", 3, _MESSAGE, _OPTIONAL, "Items", True),
                ("config", 5, _MESSAGE, _OPTIONAL, "Items", True),
                ("run", 17, _MESSAGE, _OPTIONAL, "RunRecord", True),
                ("exit", 18, _MESSAGE, _OPTIONAL, "RunExitRecord", True)]),
]  # fmt: skip


@cache
def record_class() -> Any:
    """The class of one `.wandb` record; ImportError_ when protobuf is not installed."""
    try:
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    except ImportError:
        raise ImportError_(
            "importing W&B runs needs protobuf (pip install 'mmtop[wandb]')"
        ) from None
    fdp = descriptor_pb2.FieldDescriptorProto
    types = {
        _STRING: fdp.TYPE_STRING,
        _INT64: fdp.TYPE_INT64,
        _INT32: fdp.TYPE_INT32,
        _BOOL: fdp.TYPE_BOOL,
        _MESSAGE: fdp.TYPE_MESSAGE,
    }
    labels = {_OPTIONAL: fdp.LABEL_OPTIONAL, _REPEATED: fdp.LABEL_REPEATED}
    file = descriptor_pb2.FileDescriptorProto(
        name="mmtop_wandb_record.proto", package=_PACKAGE, syntax="proto3"
    )
    for name, fields in _MESSAGES:
        message = file.message_type.add(name=name)
        if any(oneof for *_, oneof in fields):
            message.oneof_decl.add(name="record_type")
        for field, number, kind, label, type_name, oneof in fields:
            spec = message.field.add(
                name=field, number=number, type=types[kind], label=labels[label]
            )
            if type_name is not None:
                spec.type_name = f".{_PACKAGE}.{type_name}"
            if oneof:
                spec.oneof_index = 0
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(file.SerializeToString())
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.Record"))

"""The batch API through the official `openai` Python SDK: `files.create` (multipart upload),
`batches.create/retrieve/list/cancel`, `files.content` of the output and error files, and
`files.delete`, against the session gateway in front of the simulated provider."""

from __future__ import annotations

import io
import json
import time

import openai
import pytest


def _line(custom_id: str, text: str, route: str = "chat") -> str:
    return json.dumps(
        {
            "custom_id": custom_id,
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": route, "messages": [{"role": "user", "content": text}]},
        }
    )


def _upload(client: openai.OpenAI, lines: list[str]):
    data = ("\n".join(lines) + "\n").encode()
    return client.files.create(file=("batch.jsonl", io.BytesIO(data)), purpose="batch")


def _wait(client: openai.OpenAI, batch_id: str, until=("completed", "failed", "cancelled")):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        b = client.batches.retrieve(batch_id)
        if b.status in until:
            return b
        time.sleep(0.1)
    pytest.fail(f"batch {batch_id} never reached {until}")


def test_batch_round_trip_with_output_and_error_files(client):
    f = _upload(client, [_line("a", "one"), "not json", _line("b", "two")])
    assert f.id.startswith("file-")
    assert f.purpose == "batch"
    assert client.files.retrieve(f.id).bytes == f.bytes

    batch = client.batches.create(
        input_file_id=f.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"job": "sdk"},
    )
    assert batch.status in ("validating", "in_progress", "finalizing", "completed")
    assert batch.metadata == {"job": "sdk"}

    done = _wait(client, batch.id)
    assert done.status == "completed"
    assert done.request_counts.total == 3
    assert done.request_counts.completed == 2
    assert done.request_counts.failed == 1

    out = [json.loads(l) for l in client.files.content(done.output_file_id).text.splitlines()]
    assert [o["custom_id"] for o in out] == ["a", "b"]
    assert all(o["response"]["status_code"] == 200 for o in out)
    assert all(o["response"]["body"]["usage"]["total_tokens"] > 0 for o in out)

    errs = [json.loads(l) for l in client.files.content(done.error_file_id).text.splitlines()]
    assert errs[0]["error"]["code"] == "invalid_json"
    assert errs[0]["error"]["line"] == 2

    listed = client.batches.list(limit=5)
    assert batch.id in [b.id for b in listed.data]

    deleted = client.files.delete(f.id)
    assert deleted.deleted is True
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(f.id)


def test_batch_cancel_through_the_sdk(client):
    f = _upload(client, [_line(f"c{i}", "x") for i in range(50)])
    batch = client.batches.create(
        input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    cancelled = client.batches.cancel(batch.id)
    # A fast simulator may finish first; otherwise the batch is cancelling or cancelled.
    assert cancelled.status in ("cancelling", "cancelled", "completed")
    done = _wait(client, batch.id)
    assert done.status in ("cancelled", "completed")
    assert done.request_counts.total == 50


def test_batch_create_errors_are_sdk_exceptions(client):
    with pytest.raises(openai.NotFoundError):
        client.batches.create(
            input_file_id="file-missing", endpoint="/v1/chat/completions", completion_window="24h"
        )
    with pytest.raises(openai.BadRequestError):
        client.files.create(file=("x.txt", io.BytesIO(b"hi")), purpose="assistants")

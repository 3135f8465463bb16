"""The jobs' queue deployed: Amazon SQS (docs/jobs.md "Why SQS"). The schedule sends a run's
parts here; ``app.py``'s ``on_sqs_message`` worker takes them one message at a time.

A send is within the time budgets of every outside call (connect and read timeouts, standard
retries: docs/ops.md "Time budgets"). SendMessageBatch answers 200 with a list of the entries it
failed: those are sent again, and still failing they raise (the schedule or worker then fails
and is retried: nothing of a run is lost silently)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.jobs.engine import Slice

BATCH = 10  # SendMessageBatch's limit
ATTEMPTS = 3


class QueueRefused(RuntimeError):
    """SQS would not take some messages, after retries."""


class SqsQueue:
    def __init__(self, url: str, client: Any = None) -> None:
        self.url = url
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            from chalicelib.config import get_settings

            budgets = get_settings().budgets
            self._client = boto3.client("sqs", config=Config(
                connect_timeout=budgets.dynamodb_connect_seconds, read_timeout=budgets.dynamodb_read_seconds,
                retries={"mode": "standard", "total_max_attempts": budgets.dynamodb_attempts}))
        return self._client

    def send(self, slices: Sequence[Slice]) -> None:
        for start in range(0, len(slices), BATCH):
            pending = {str(i): piece.to_json() for i, piece in enumerate(slices[start:start + BATCH])}
            for _ in range(ATTEMPTS):
                answer = self.client.send_message_batch(QueueUrl=self.url, Entries=[
                    {"Id": key, "MessageBody": body} for key, body in pending.items()])
                pending = {f["Id"]: pending[f["Id"]] for f in answer.get("Failed", [])}
                if not pending:
                    break
            if pending:
                raise QueueRefused(f"SQS refused {len(pending)} job messages")

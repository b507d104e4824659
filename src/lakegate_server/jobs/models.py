"""The Run table owns run state; the queue only carries run ids (Huey delivers at most once).

A worker *claims* a queued run with a conditional UPDATE, which gives it a fresh
``lease_token``; it renews ``lease_expires_at`` with heartbeats. Every later write of
that attempt is fenced on the token, so a worker that lost its lease (reaped or
cancelled) can never overwrite the outcome of the attempt that replaced it.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from lakegate_server.jobs.shapes import LogEntry, RunDict, RunParams, RunResult


class RunStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED})


class Run(models.Model):
    kind = models.CharField(max_length=100)
    params: models.JSONField[RunParams, RunParams] = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=3)
    # How often the run was handed to the queue again because no worker took it.
    requeues = models.PositiveIntegerField(default=0)
    created_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the run is due to a worker: its creation or re-queue, or, for a retry after a
    # transient error, the end of its back-off (a future time). The reaper's
    # ``runs.queued_timeout_seconds`` counts from here.
    queued_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    result: models.JSONField[RunResult | None, RunResult | None] = models.JSONField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar = ["-id"]
        indexes: ClassVar = [
            models.Index(fields=["status", "lease_expires_at"], name="run_status_lease"),
            models.Index(fields=["status", "queued_at"], name="run_status_queued"),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} {self.kind} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    def to_dict(self) -> RunDict:
        return {
            "id": self.pk,
            "kind": self.kind,
            "params": self.params,
            "status": self.status,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "queued_at": self.queued_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "worker": self.worker,
            "heartbeat_at": self.heartbeat_at,
            "lease_expires_at": self.lease_expires_at,
            "result": self.result,
            "last_error": self.last_error,
        }


class RunLogLine(models.Model):
    """One line of a run's log (the JSON object the log formatter builds), in the database.

    In the database, not in a file: the dashboard of one host must show the log a worker on
    another host is writing, line by line while it runs, and an object store has no append.
    """

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="log_lines")
    entry: models.JSONField[LogEntry, LogEntry] = models.JSONField()

    class Meta:
        ordering: ClassVar = ["id"]
        indexes: ClassVar = [models.Index(fields=["run", "id"], name="run_log_line_run")]

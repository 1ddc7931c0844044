"""Resolve which AWS to talk to and the names of the stack's resources.

Order of precedence:

1. ``AWS_ENDPOINT_URL`` in the environment: that endpoint (an emulator you run
   yourself, LocalStack, ...), credentials from boto3's default chain (dummy ones
   are filled in when none are configured, as emulators accept any).
2. The local emulator recorded in ``$ECOM_HOME/aws.json`` by ``ecom aws up``
   (skipped when ``ECOM_AWS=aws``).
3. Real AWS through boto3's default credential chain (environment, profile, SSO,
   instance role).

If none is available, :class:`AwsNotConfigured` (an :class:`ecom.errors.AwsError`) says
what to run. Resource names come from the CloudFormation stack's outputs (stack
``$ECOM_STACK``, default ``ecom``); ``ECOM_BUCKET``, ``ECOM_STREAM``,
``ECOM_CHECKPOINT_TABLE`` and ``ECOM_METRICS_TABLE`` override single names.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecom import settings
from ecom.errors import AwsError
from ecom.warehouse import local_state_dir

DEFAULT_REGION = "us-east-1"
DEFAULT_STACK = "ecom"
#: Credentials used against an emulator when none are configured (moto accepts anything).
EMULATOR_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

UP_HINT = (
    "run `ecom aws up` to start the local AWS emulator, or point the commands at AWS: "
    "set AWS_ENDPOINT_URL (an emulator of your own) or AWS credentials "
    "(AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO, an instance role)"
)


class AwsNotConfigured(AwsError):
    """No AWS to talk to: neither a running emulator, an endpoint nor credentials; or the
    stack is not deployed there."""


def state_path() -> Path:
    """The emulator's state file, written by ``ecom aws up``."""
    return local_state_dir() / "aws.json"


def read_state() -> dict[str, Any] | None:
    try:
        state: dict[str, Any] = json.loads(state_path().read_text())
    except (OSError, ValueError):
        return None
    return state


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Target:
    """The AWS the commands talk to."""

    kind: str  # "endpoint" | "emulator" | "aws"
    endpoint_url: str | None
    region: str
    stack_name: str

    def describe(self) -> str:
        if self.kind == "emulator":
            return f"local emulator at {self.endpoint_url}"
        if self.kind == "endpoint":
            return f"AWS_ENDPOINT_URL {self.endpoint_url}"
        return f"AWS ({self.region})"


def region() -> str:
    """The region: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1."""
    return settings.get().aws_region or DEFAULT_REGION


def stack_name() -> str:
    return settings.get().stack


def wants_real_aws() -> bool:
    """``ECOM_AWS=aws``: skip a recorded local emulator."""
    return settings.get().aws_mode.lower() == "aws"


def target() -> Target:
    """Resolve where AWS is (see the module docstring), or raise :class:`AwsNotConfigured`."""
    endpoint = settings.get().aws_endpoint_url
    if endpoint:
        return Target("endpoint", endpoint.rstrip("/"), region(), stack_name())
    if not wants_real_aws():
        state = read_state()
        if state is not None:
            if not pid_alive(int(state.get("pid", -1))):
                raise AwsNotConfigured(
                    f"the local AWS emulator recorded in {state_path()} is not running "
                    f"(pid {state.get('pid')} is gone); run `ecom aws up` to start it again"
                )
            return Target(
                "emulator", state["endpoint"], state.get("region", DEFAULT_REGION), stack_name()
            )
    import boto3

    if boto3.session.Session().get_credentials() is None:
        raise AwsNotConfigured(f"no AWS to talk to: {UP_HINT}")
    return Target("aws", None, region(), stack_name())


_lock = threading.Lock()
# a process forked while another thread held the lock (the stream processor's workers) starts
# with it free: the child has one thread, and nobody else to release it
os.register_at_fork(after_in_child=lambda: globals().update(_lock=threading.Lock()))
_sessions: dict[tuple[str | None, str], Any] = {}


def client(service: str, *, config: Any = None, target_: Target | None = None) -> Any:
    """A boto3 client for ``service`` on the resolved AWS (one boto3 session per target)."""
    import boto3

    t = target_ or target()
    kwargs: dict[str, Any] = {"region_name": t.region}
    if t.endpoint_url:
        kwargs["endpoint_url"] = t.endpoint_url
    with _lock:
        session = _sessions.get((t.endpoint_url, t.region))
        if session is None:
            session = boto3.session.Session()
            _sessions[(t.endpoint_url, t.region)] = session
    if t.kind != "aws" and session.get_credentials() is None:
        kwargs.update(EMULATOR_CREDENTIALS)
    if config is not None:
        kwargs["config"] = config
    return session.client(service, **kwargs)


class LazyClient:
    """A client made when it is first used: making one costs tens of milliseconds (S3's
    service model is large), and some clients are only needed when something goes wrong."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._client: Any = None
        self._made = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        with self._made:
            if self._client is None:
                self._client = self._make()
        return getattr(self._client, name)


@dataclass(frozen=True)
class Resources:
    """Names of the stack's resources (from its CloudFormation outputs)."""

    bucket: str
    stream: str
    checkpoint_table: str
    stack_name: str
    outputs: dict[str, str]
    metrics_table: str = ""  # the stream processor's table ("" on a stack deployed before it)


_resources: dict[tuple[str | None, str, str], Resources] = {}


def resources(target_: Target | None = None) -> Resources:
    """The bucket, stream and checkpoint table of the deployed stack."""
    t = target_ or target()
    key = (t.endpoint_url, t.region, t.stack_name)
    cached = _resources.get(key)
    if cached is None:
        cached = _load_resources(t)
        _resources[key] = cached
    env = settings.get()
    return Resources(
        bucket=env.bucket or cached.bucket,
        stream=env.stream or cached.stream,
        checkpoint_table=env.checkpoint_table or cached.checkpoint_table,
        stack_name=cached.stack_name,
        outputs=cached.outputs,
        metrics_table=env.metrics_table or cached.metrics_table,
    )


def _load_resources(t: Target) -> Resources:
    from botocore.exceptions import BotoCoreError, ClientError

    cfn = client("cloudformation", target_=t)
    try:
        stack = find_stack(cfn, t.stack_name)
    except ClientError as exc:
        raise AwsError(f"cannot read stack {t.stack_name!r}: {exc}") from exc
    except BotoCoreError as exc:
        hint = "; is the emulator running? (`ecom aws up`)" if t.kind != "aws" else ""
        raise AwsNotConfigured(f"cannot reach the {t.describe()}: {exc}{hint}") from exc
    if stack is None:
        raise AwsNotConfigured(
            f"stack {t.stack_name!r} is not deployed on the {t.describe()}: run `ecom aws up` "
            "(local) or deploy infra/template.yaml (`ecom aws deploy`), or set ECOM_STACK"
        )
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    missing = [
        k
        for k in ("LandingBucketName", "EventStreamName", "CheckpointTableName")
        if k not in outputs
    ]
    if missing:
        raise AwsError(
            f"stack {t.stack_name!r} lacks the outputs {', '.join(missing)}: redeploy infra/template.yaml"
        )
    return Resources(
        bucket=outputs["LandingBucketName"],
        stream=outputs["EventStreamName"],
        checkpoint_table=outputs["CheckpointTableName"],
        stack_name=t.stack_name,
        outputs=outputs,
        metrics_table=outputs.get("MetricsTableName", ""),
    )


def find_stack(cfn: Any, name: str) -> dict[str, Any] | None:
    """The stack called ``name`` (not deleted), or ``None``: read from the list of stacks,
    so that a missing stack is an answer, not an error recognised by its message."""
    for page in cfn.get_paginator("describe_stacks").paginate():
        for stack in page["Stacks"]:
            if stack["StackName"] == name and stack["StackStatus"] != "DELETE_COMPLETE":
                return dict(stack)
    return None


def forget() -> None:
    """Drop cached sessions and stack outputs (after a redeploy, or between tests)."""
    with _lock:
        _sessions.clear()
        _resources.clear()

"""How the producer retries PutRecords: which errors are worth another attempt, and when."""

from __future__ import annotations

import random
from dataclasses import dataclass

#: Per-entry and whole-call error codes worth another attempt.
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "InternalFailure",
        "InternalFailureException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ThrottlingException",
        "KMSThrottlingException",
        "LimitExceededException",
        "RequestTimeout",
    }
)
#: Transport errors after which a call may or may not have landed: resend all of it.
LOST_CALL = frozenset(
    {"ConnectionClosedError", "EndpointConnectionError", "ReadTimeoutError", "ConnectTimeoutError"}
)


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with full jitter: attempt n waits U(0, min(cap, base * 2^(n-1)))."""

    max_attempts: int = 8
    base_delay: float = 0.1
    max_delay: float = 5.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))

    def max_total_delay(self) -> float:
        """The longest the producer can wait between its attempts of one entry (s).

        botocore's own retries come on top when the client has them (they stack with these):
        give the producer a client configured with ``retries={"total_max_attempts": 1}`` to make
        this the whole bound, as the HTTP API does.
        """
        return sum(
            min(self.max_delay, self.base_delay * 2 ** (n - 1)) for n in range(1, self.max_attempts)
        )

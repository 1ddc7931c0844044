"""The stream processor: Kinesis -> live sales KPIs in DynamoDB, exactly once (docs/realtime.md)."""

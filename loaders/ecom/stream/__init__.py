"""Kinesis streaming: the producer (CSV files or validated events -> Kinesis) and the sink
(Kinesis -> S3 landing zone, checkpointed in DynamoDB). See docs/streaming.md."""

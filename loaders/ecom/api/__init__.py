"""The HTTP ingestion endpoint: a Lambda handler for API Gateway, and a local server around it."""

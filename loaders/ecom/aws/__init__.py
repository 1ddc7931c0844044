"""Where AWS is, and the local emulator.

``ecom.aws.session`` resolves the AWS to talk to (a running local emulator, an
``AWS_ENDPOINT_URL``, or real AWS through boto3's default chain) and the names of
the stack's resources; ``ecom.aws.emulator`` starts and stops the local moto
server; ``ecom.aws.stack`` deploys ``infra/template.yaml``.
"""

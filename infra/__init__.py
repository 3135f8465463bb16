"""Infrastructure: the CloudFormation merged into ``chalice package`` (tables, IAM) and the
packaging command, ``python -m infra.package``. Nothing here ships in the Lambda package."""

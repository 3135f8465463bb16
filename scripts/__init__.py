"""Developer scripts: the local stack (DynamoDB Local, moto fallback, `make dev`)."""

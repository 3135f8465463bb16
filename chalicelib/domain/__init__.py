"""Pure business rules: no I/O, no boto3, no chalice. Imports nothing of ours but domain."""

"""Benchmarks of fenxiao: DynamoDB calls per request, throughput and cold start.

Run with ``python -m bench`` (``make bench``); see docs/performance.md. Never imported by tests.
"""

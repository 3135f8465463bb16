"""Adapters to WeChat: each port has the real client and a simulator speaking the same protocol."""

"""Carrier tracking services outside WeChat: 快递100's subscription API (the real client and a
simulator that speaks its protocol). docs/delivery.md."""

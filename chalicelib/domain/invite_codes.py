"""Invite codes: short, unambiguous when read aloud or typed (no 0/O, 1/I/L)."""
from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 8


def new_invite_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise_invite_code(text: str) -> str:
    return text.strip().upper()


def looks_like_invite_code(text: str) -> bool:
    return len(text) == LENGTH and all(c in ALPHABET for c in text)

"""Reading what a console form sent: ``application/x-www-form-urlencoded`` and
``multipart/form-data`` (a CSV file, an image), into fields and files; nothing else."""
from __future__ import annotations

from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Form:
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def all(self, name: str) -> list[str]:
        return list(self.fields.get(name, []))


class FormUnreadable(ValueError):
    """The body is not a form we read (another content type, a malformed multipart)."""


def parse_form(content_type: str, body: bytes) -> Form:
    kind = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return Form()
    if kind == "application/x-www-form-urlencoded":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormUnreadable("the form is not UTF-8") from exc
        return Form(parse_qs(text, keep_blank_values=True))
    if kind == "multipart/form-data":
        return _multipart(content_type, body)
    raise FormUnreadable(f"a console form is sent as a form, not {kind or 'nothing'}")


def _multipart(content_type: str, body: bytes) -> Form:
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise FormUnreadable("the multipart form is malformed")
    form = Form()
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            if data or filename:
                form.files[name] = Upload(filename, part.get_content_type(), bytes(data))
            continue
        try:
            form.fields.setdefault(name, []).append(bytes(data).decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise FormUnreadable(f"the field {name} is not UTF-8") from exc
    return form

"""Carrier tracking: 快递100's push endpoint, and the simulator's carrier (docs/delivery.md)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

M = "chalicelib.api.tracking_schemas"
FORM = "application/x-www-form-urlencoded"
if TYPE_CHECKING:
    from chalicelib.api import tracking_schemas as s
    from chalicelib.services import delivery
else:
    s, delivery = lazy(M), lazy("chalicelib.services.delivery")

bp = Blueprint(__name__)


@endpoint(bp, "/v1/tracking/kuaidi100/{subject}", "POST", auth="public", tag="delivery", models=M,
          response="PushAnswer", content_types=(FORM,),
          summary="快递100's push (form param + sign = MD5(param + the parcel's salt)): verified, then the "
                  "parcel's steps merged once; the first delivery records the order's delivered_at",
          errors=("INVALID_SIGNATURE", "INVALID_CALLBACK", "TRACKING_NOT_FOUND", "TRACKING_MISMATCH"))
def kuaidi100_push(call: Call) -> s.PushAnswer:
    delivery.handle_push(call.params["subject"], call.raw_body, call.deps)
    return s.PushAnswer(result=True, returnCode="200", message="成功")


@endpoint(bp, "/v1/dev/tracking/{subject}", "POST", auth="simulator", tag="simulator", models=M, body="PlayBody",
          response="PlayAnswer",
          summary="Play the carrier: 快递100's simulator writes the parcel's next steps (in_transit, delivered, "
                  "returned) and its signed push is delivered to the real push handler",
          errors=("TRACKING_NOT_FOUND",))
def play_carrier(call: Call) -> s.PlayAnswer:
    from urllib.parse import urlencode

    from chalicelib.domain.tracking import TrackingNotFound

    subject = call.params["subject"]
    tracking = call.deps.tracking.get(subject)
    if tracking is None:
        raise TrackingNotFound("no parcel is tracked under this id", subject=subject)
    try:
        url, form = call.deps.tracker.play(tracking.company, tracking.tracking_no,  # type: ignore[union-attr]
                                           call.body.scenario, call.deps.clock())
    except KeyError as exc:  # not subscribed yet: 快递100 watches no such parcel
        raise TrackingNotFound("快递100 does not watch this parcel (its subscription is pending)",
                               subject=subject, subscription=tracking.sub.value) from exc
    status = delivery.handle_push(subject, urlencode(form).encode(), call.deps)
    return s.PlayAnswer(status=status, callback=s.PushOut(url=url, form=form))

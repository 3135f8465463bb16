"""WeChat Pay merchant transfer in the use cases: which client pays withdrawals out."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.config import Settings
    from chalicelib.wechat.transfer import TransferClient, TransferScene


def transfer_scene(settings: Settings) -> TransferScene:
    """The transfer scene and what every bill reports with it, from the settings."""
    from chalicelib.wechat.transfer import TransferScene

    return TransferScene(scene_id=settings.wechat_transfer_scene_id, report_title=settings.wechat_transfer_report_title,
                         notify_url=settings.wechat_transfer_notify_url, perception=settings.wechat_transfer_perception)


def transfer_client(settings: Settings) -> TransferClient:
    """The simulator in simulator mode (keys as for payments: given ones honoured, the rest
    generated), else the real client with the live WeChat Pay settings (required at start)."""
    from chalicelib.services.payments import pay_config

    config, platform_private = pay_config(settings)
    if settings.simulator:
        from chalicelib.store.simulators import SimulatorStore
        from chalicelib.wechat.transfer_simulator import TransferSimulator

        # the bills kept with the data, as for payments: a restart forgets no bill
        return TransferSimulator(config, platform_private, scene=transfer_scene(settings),
                                 state=SimulatorStore("transfer"))
    from chalicelib.wechat.transfer import RealTransferClient

    return RealTransferClient(config, transfer_scene(settings))

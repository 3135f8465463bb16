"""One place builds the adapters (cosmicpython's ``bootstrap.py``).

``Deps`` is what a use case runs with: the settings, the clock, the stores, the WeChat clients
(real or simulator, as the settings say) and the per-process lexicon cache, each built on first
use so that importing the app stays cheap, and the business rules in force (``Deps.rules``: the
runtime settings' version in force, docs/settings.md). The entry points (api/, jobs/, ``entrypoints``,
scripts, tests, bench) build a ``Deps`` or take the process-wide one here and pass it on;
services import ``Deps`` for typing only.

Layers: above services (it builds ``services.moderation.LexiconCache`` and
``services.settings.RulesCache``) and the adapters
(store/, wechat/), below the entry points that import it (.importlinter).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.domain.clock import Clock, system_clock

if TYPE_CHECKING:
    from chalicelib.carriers.kuaidi100 import Tracker
    from chalicelib.config import Rules, Settings
    from chalicelib.media import MediaStore
    from chalicelib.services.moderation import LexiconCache
    from chalicelib.services.settings import RulesCache
    from chalicelib.store.after_sales import AfterSalesStore
    from chalicelib.store.analytics import AnalyticsStore
    from chalicelib.store.console import ConsoleStore
    from chalicelib.store.content import ContentStore
    from chalicelib.store.experiments import ExperimentStore
    from chalicelib.store.groups import GroupStore
    from chalicelib.store.jobs import JobStore
    from chalicelib.store.ledger import LedgerStore, SettlementStore
    from chalicelib.store.orders import OrderStore
    from chalicelib.store.products import ProductStore
    from chalicelib.store.promotions import PromotionStore
    from chalicelib.store.recommendations import RecommendationStore
    from chalicelib.store.rewards import RewardStore
    from chalicelib.store.settings import SettingsStore
    from chalicelib.store.subscriptions import SubscriptionStore
    from chalicelib.store.support import SupportStore
    from chalicelib.store.tracking import TrackingStore
    from chalicelib.store.users import UserStore
    from chalicelib.store.withdrawals import WithdrawalStore
    from chalicelib.wechat.customer_service import CustomerService
    from chalicelib.wechat.login import LoginClient
    from chalicelib.wechat.pay import PayClient
    from chalicelib.wechat.pay_config import PayConfig
    from chalicelib.wechat.security import ContentSecurity
    from chalicelib.wechat.shipping import ShippingReporter
    from chalicelib.wechat.subscribe import SubscribeMessages
    from chalicelib.wechat.token import AccessToken
    from chalicelib.wechat.transfer import TransferClient, TransferScene
    from chalicelib.wechat.wxacode import MiniProgramCodes


@dataclass
class Deps:
    settings: Settings = field(default_factory=lambda: _settings())
    clock: Clock = system_clock
    # A job run's rules: the version in force when it was planned, for all of its slices
    # (``pinned``); None: the version in force now.
    rules_pin: int | None = None

    @property
    def rules(self) -> Rules:
        """The business rules in force: the one way code reads them (never ``settings.rules``,
        which is only the seed; tests/unit/test_runtime_rules.py)."""
        return self.rules_in_force()[1]

    def rules_in_force(self) -> tuple[int, Rules]:
        """The version in force (at most ``rules_refresh_seconds`` old) and its rules."""
        number = self.rules_pin if self.rules_pin is not None else self.rules_cache.current(
            self.settings_store, self.settings.rules_refresh_seconds)
        return number, self.rules_at(number)

    def rules_at(self, version: int) -> Rules:
        """Version ``version``'s rules: what an order placed under it, or a job run planned
        under it, keeps using."""
        return self.rules_cache.at(version, self.settings_store, self.settings.rules_refresh_seconds,
                                   self.settings.rules)

    def pinned(self, version: int) -> Deps:
        """These adapters (shared, not rebuilt) with the rules held at ``version``."""
        self.rules_cache  # noqa: B018 (built before the copy, so the copy shares it)
        held = copy.copy(self)
        held.rules_pin = version
        return held

    @cached_property
    def settings_store(self) -> SettingsStore:
        from chalicelib.store.settings import SettingsStore

        return SettingsStore()

    @cached_property
    def rules_cache(self) -> RulesCache:
        from chalicelib.services.settings import RulesCache

        return RulesCache()

    @cached_property
    def users(self) -> UserStore:
        from chalicelib.store.users import UserStore

        return UserStore()

    @cached_property
    def products(self) -> ProductStore:
        from chalicelib.store.products import ProductStore

        return ProductStore()

    @cached_property
    def orders(self) -> OrderStore:
        from chalicelib.store.orders import OrderStore

        return OrderStore()

    @cached_property
    def ledger(self) -> LedgerStore:
        from chalicelib.store.ledger import LedgerStore

        return LedgerStore()

    @cached_property
    def settlement(self) -> SettlementStore:
        from chalicelib.store.ledger import SettlementStore

        return SettlementStore()

    @cached_property
    def groups(self) -> GroupStore:
        from chalicelib.store.groups import GroupStore

        return GroupStore()

    @cached_property
    def pay(self) -> PayClient:
        return pay_client(self.settings)

    @cached_property
    def rewards(self) -> RewardStore:
        from chalicelib.store.rewards import RewardStore

        return RewardStore()

    @cached_property
    def withdrawals(self) -> WithdrawalStore:
        from chalicelib.store.withdrawals import WithdrawalStore

        return WithdrawalStore()

    @cached_property
    def transfers(self) -> TransferClient:
        return transfer_client(self.settings)

    @cached_property
    def wechat_login(self) -> LoginClient:
        from chalicelib.wechat.login import RealLogin, SimulatorLogin

        if self.settings.simulator:
            return SimulatorLogin()
        return RealLogin(self.settings.wechat_app_id, self.settings.wechat_app_secret, self.settings.wechat_api_base)

    @cached_property
    def analytics(self) -> AnalyticsStore:
        from chalicelib.store.analytics import AnalyticsStore

        return AnalyticsStore()

    @cached_property
    def jobs(self) -> JobStore:
        from chalicelib.store.jobs import JobStore

        return JobStore()

    @cached_property
    def experiments(self) -> ExperimentStore:
        from chalicelib.store.experiments import ExperimentStore

        return ExperimentStore()

    @cached_property
    def recommendations(self) -> RecommendationStore:
        from chalicelib.store.recommendations import RecommendationStore

        return RecommendationStore()

    @cached_property
    def content(self) -> ContentStore:
        from chalicelib.store.content import ContentStore

        return ContentStore()

    @cached_property
    def content_security(self) -> ContentSecurity:
        from chalicelib.wechat.security import RealContentSecurity, SimulatorContentSecurity

        if self.settings.simulator:
            return SimulatorContentSecurity()
        return RealContentSecurity(self.settings.wechat_app_id, self.settings.wechat_app_secret,
                                   self.settings.wechat_api_base, token=self.wechat_token)

    @cached_property
    def wechat_token(self) -> AccessToken:
        """The mini-program's access token, one cache for every server API that takes it."""
        from chalicelib.wechat.token import AccessToken

        return AccessToken(self.settings.wechat_app_id, self.settings.wechat_app_secret, self.settings.wechat_api_base)

    @cached_property
    def shipping(self) -> ShippingReporter:
        """WeChat's shipping report (``upload_shipping_info``): the simulator in simulator mode,
        checking payments against the Pay simulator's memory."""
        if self.settings.simulator:
            from chalicelib.store.simulators import SimulatorStore
            from chalicelib.wechat.pay_simulator import SIMULATOR_MCH_ID
            from chalicelib.wechat.shipping_simulator import ShippingSimulator

            mch_id = self.settings.wechat_pay_mch_id or SIMULATOR_MCH_ID  # as pay_config's
            return ShippingSimulator(mch_id, state=SimulatorStore("shipping"), payments=SimulatorStore("pay"))
        from chalicelib.wechat.shipping import RealShippingReporter

        return RealShippingReporter(self.wechat_token, self.settings.wechat_pay_mch_id)

    @cached_property
    def support(self) -> SupportStore:
        """The customer-service inbox (docs/customer-service.md)."""
        from chalicelib.store.support import SupportStore

        return SupportStore()

    @cached_property
    def customer_service(self) -> CustomerService:
        """``customerServiceMessage.send``: the simulator in simulator mode (what WeChat remembers
        of each user's window kept with the data, like the Pay simulator's payments)."""
        if self.settings.simulator:
            from chalicelib.store.simulators import SimulatorStore
            from chalicelib.wechat.customer_service import CustomerServiceSimulator

            return CustomerServiceSimulator(state=SimulatorStore("cs"))
        from chalicelib.wechat.customer_service import RealCustomerService

        return RealCustomerService(self.wechat_token)

    @cached_property
    def mini_program_codes(self) -> MiniProgramCodes:
        """Mini-program codes (``getwxacodeunlimit``): the simulator draws a real QR code."""
        if self.settings.simulator:
            from chalicelib.wechat.wxacode_simulator import MiniProgramCodeSimulator

            return MiniProgramCodeSimulator()
        from chalicelib.wechat.wxacode import RealMiniProgramCodes

        return RealMiniProgramCodes(self.wechat_token)

    @cached_property
    def console(self) -> ConsoleStore:
        from chalicelib.store.console import ConsoleStore

        return ConsoleStore()

    @cached_property
    def tracking(self) -> TrackingStore:
        from chalicelib.store.tracking import TrackingStore

        return TrackingStore()

    @cached_property
    def tracker(self) -> Tracker | None:
        """快递100 (docs/delivery.md): the simulator in simulator mode, remembering what it watches
        with the mall's data; the real client in live mode with a key; None (no tracking) without."""
        settings = self.settings
        if settings.simulator:
            from chalicelib.carriers.kuaidi100_simulator import Kuaidi100Simulator
            from chalicelib.store.simulators import SimulatorStore

            return Kuaidi100Simulator(settings.kuaidi100_key or SIMULATOR_KUAIDI100_KEY,
                                      settings.kuaidi100_customer or SIMULATOR_KUAIDI100_KEY,
                                      state=SimulatorStore("kuaidi100"))
        if not settings.kuaidi100_key:
            return None
        from chalicelib.carriers.kuaidi100 import RealKuaidi100

        return RealKuaidi100(settings.kuaidi100_key, settings.kuaidi100_customer, settings.kuaidi100_api_base,
                             settings.budgets.wechat_connect_seconds, settings.budgets.wechat_read_seconds)

    def tracking_salt_key(self) -> str:
        """The key each parcel's callback salt is derived from (a fixed one in simulator mode, so a
        restart of ``make dev`` still verifies the pushes of parcels subscribed before it)."""
        return self.settings.kuaidi100_salt_key or SIMULATOR_KUAIDI100_KEY

    @cached_property
    def media(self) -> MediaStore:
        from chalicelib.media import MediaStore

        return MediaStore(self.settings)

    @cached_property
    def after_sales(self) -> AfterSalesStore:
        from chalicelib.store.after_sales import AfterSalesStore

        return AfterSalesStore()

    # promotions (issue 19, promo-core): the store; it keeps the per-process list of what runs now
    @cached_property
    def promotions(self) -> PromotionStore:
        from chalicelib.store.promotions import PromotionStore

        return PromotionStore(self.settings.rules_refresh_seconds)

    @cached_property
    def subscriptions(self) -> SubscriptionStore:
        """Subscribe messages' consents and messages (docs/subscribe-messages.md)."""
        from chalicelib.store.subscriptions import SubscriptionStore

        return SubscriptionStore()

    @cached_property
    def subscribe_messages(self) -> SubscribeMessages:
        """``subscribeMessage.send``: the simulator in simulator mode (what it delivered kept with
        the data, listed by ``GET /v1/dev/subscribe-messages``)."""
        if self.settings.simulator:
            from chalicelib.store.simulators import SimulatorStore
            from chalicelib.wechat.subscribe_simulator import SubscribeSimulator

            return SubscribeSimulator(state=SimulatorStore("subscribe"), clock=self.clock)
        from chalicelib.wechat.subscribe import RealSubscribeMessages

        return RealSubscribeMessages(self.wechat_token)

    @cached_property
    def lexicon_cache(self) -> LexiconCache:
        from chalicelib.services.moderation import LexiconCache

        return LexiconCache()


SIMULATOR_KUAIDI100_KEY = "simulator-kuaidi100"  # simulator mode's key, customer and salt key when none is set


def pay_config(settings: Settings) -> tuple[PayConfig, str | None]:
    """The Pay configuration, and in simulator mode the platform key it signs notifications with.
    Real keys given in the settings are honoured in simulator mode too."""
    from chalicelib.wechat.pay_config import PayConfig
    from chalicelib.wechat.pay_simulator import simulator_config

    def given(value: str) -> str | None:
        return value or None

    if settings.simulator:
        return simulator_config(
            settings.wechat_app_id, mch_id=given(settings.wechat_pay_mch_id),
            apiv3_key=given(settings.wechat_pay_apiv3_key), merchant_serial=given(settings.wechat_pay_merchant_serial),
            merchant_private_key_pem=given(settings.wechat_pay_merchant_private_key),
            platform_public_key_pem=given(settings.wechat_pay_platform_public_key),
            platform_key_id=given(settings.wechat_pay_platform_key_id),
            platform_private_key_pem=given(settings.wechat_pay_simulator_platform_private_key))
    return PayConfig(app_id=settings.wechat_app_id, mch_id=settings.wechat_pay_mch_id,
                     apiv3_key=settings.wechat_pay_apiv3_key, merchant_serial=settings.wechat_pay_merchant_serial,
                     merchant_private_key_pem=settings.wechat_pay_merchant_private_key,
                     platform_public_key_pem=settings.wechat_pay_platform_public_key,
                     platform_key_id=settings.wechat_pay_platform_key_id, notify_url=settings.wechat_pay_notify_url,
                     api_base=settings.wechat_pay_api_base), None


def pay_client(settings: Settings) -> PayClient:
    config, platform_private = pay_config(settings)
    if settings.simulator:
        from chalicelib.store.simulators import SimulatorStore
        from chalicelib.wechat.pay_simulator import PaySimulator

        # what WeChat Pay remembers, kept with the data: a restart can refund an earlier order
        return PaySimulator(config, platform_private, state=SimulatorStore("pay"))
    from chalicelib.wechat.pay import RealPayClient

    return RealPayClient(config)


def transfer_scene(settings: Settings) -> TransferScene:
    """The transfer scene and what every bill reports with it, from the settings."""
    from chalicelib.wechat.transfer import TransferScene

    return TransferScene(scene_id=settings.wechat_transfer_scene_id, report_title=settings.wechat_transfer_report_title,
                         notify_url=settings.wechat_transfer_notify_url, perception=settings.wechat_transfer_perception)


def transfer_client(settings: Settings) -> TransferClient:
    """The simulator in simulator mode (keys as for payments: given ones honoured, the rest
    generated), else the real client with the live WeChat Pay settings (required at start)."""
    config, platform_private = pay_config(settings)
    if settings.simulator:
        from chalicelib.store.simulators import SimulatorStore
        from chalicelib.wechat.transfer_simulator import TransferSimulator

        # the bills kept with the data, as for payments: a restart forgets no bill
        return TransferSimulator(config, platform_private, scene=transfer_scene(settings),
                                 state=SimulatorStore("transfer"))
    from chalicelib.wechat.transfer import RealTransferClient

    return RealTransferClient(config, transfer_scene(settings))


def _settings() -> Settings:
    from chalicelib.config import get_settings

    return get_settings()


_default: Deps | None = None
_default_is_built = False  # built here from the settings in force (not set by a test or the dev server)


def default_deps() -> Deps:
    """The process-wide adapters (one per Lambda container), built again when the settings in
    force change (a rotated secret, once its cache has aged: chalicelib/secrets.py)."""
    global _default, _default_is_built
    if _default is None or (_default_is_built and _default.settings is not _settings()):
        _default, _default_is_built = Deps(), True
    return _default


def set_default_deps(deps: Deps | None) -> None:
    """Tests and the dev server swap the adapters here."""
    global _default, _default_is_built
    _default, _default_is_built = deps, False

"""The adapters a service runs with, built lazily so that importing the app stays cheap."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.domain.clock import Clock, system_clock

if TYPE_CHECKING:
    from chalicelib.config import Settings
    from chalicelib.services.moderation import LexiconCache
    from chalicelib.store.analytics import AnalyticsStore
    from chalicelib.store.content import ContentStore
    from chalicelib.store.experiments import ExperimentStore
    from chalicelib.store.groups import GroupStore
    from chalicelib.store.ledger import LedgerStore, SettlementStore
    from chalicelib.store.orders import OrderStore
    from chalicelib.store.products import ProductStore
    from chalicelib.store.recommendations import RecommendationStore
    from chalicelib.store.users import UserStore
    from chalicelib.store.withdrawals import WithdrawalStore
    from chalicelib.wechat.login import LoginClient
    from chalicelib.wechat.pay import PayClient
    from chalicelib.wechat.security import ContentSecurity
    from chalicelib.wechat.transfer import TransferClient


@dataclass
class Deps:
    settings: Settings = field(default_factory=lambda: _settings())
    clock: Clock = system_clock

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
        from chalicelib.services.payments import pay_client

        return pay_client(self.settings)

    @cached_property
    def withdrawals(self) -> WithdrawalStore:
        from chalicelib.store.withdrawals import WithdrawalStore

        return WithdrawalStore()

    @cached_property
    def transfers(self) -> TransferClient:
        from chalicelib.services.transfers import transfer_client

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
                                   self.settings.wechat_api_base)

    @cached_property
    def lexicon_cache(self) -> LexiconCache:
        from chalicelib.services.moderation import LexiconCache

        return LexiconCache()


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

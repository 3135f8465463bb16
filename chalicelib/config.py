"""Settings, read once from the environment.

Two kinds of setting live here:

* deployment settings (mode, table names, secrets), one environment variable each;
* business rules (binding policy, tiers, invitation ladder), whose defaults are the numbers of
  DOMAIN.md. ``FENXIAO_RULES`` (a JSON document merged over the defaults) is their **seed**:
  version 1 of the runtime settings the operator edits through the API (docs/settings.md;
  code reads the rules in force through ``Deps.rules``). The seed is validated when it is
  loaded, so a bad one fails at start-up, not in the middle of a request.
"""
from __future__ import annotations

import base64
import itertools
import json
import os
import secrets
from collections.abc import Mapping
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib.domain.binding import BindableUsers, BindingDuration, BindingPolicy, PromoterPolicy
from chalicelib.domain.experiments import Experiment
from chalicelib.domain.invitations import InvitationLadder, Milestone
from chalicelib.domain.tiers import Tier, TierRule, TierRules
from chalicelib.domain.withdrawals import WithdrawalLimits

if TYPE_CHECKING:
    from chalicelib.domain.subscriptions import MessageKind, Template


class Mode(StrEnum):
    SIMULATOR = "simulator"  # WeChat simulated, dev routes on: the local default
    LIVE = "live"  # real WeChat APIs, dev routes absent


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class BindingRules(_Frozen):
    promoters: PromoterPolicy = PromoterPolicy.EVERYONE
    promoter_min_spent_fen: int = Field(default=0, ge=0)
    bindable: BindableUsers = BindableUsers.NEW_ONLY
    duration: BindingDuration = BindingDuration.PERMANENT
    duration_days: int = Field(default=30, ge=1, le=3650)

    def policy(self) -> BindingPolicy:
        return BindingPolicy(
            promoters=self.promoters,
            promoter_min_spent_fen=self.promoter_min_spent_fen,
            bindable=self.bindable,
            duration=self.duration,
            duration_days=self.duration_days,
        )


class TierRuleConfig(_Frozen):
    tier: Tier
    min_direct: int = Field(default=0, ge=0)
    min_team: int = Field(default=0, ge=0)
    min_month_sales_fen: int = Field(default=0, ge=0)
    uplift_bp: int = Field(default=0, ge=0, le=10_000)


def _default_tiers() -> list[TierRuleConfig]:
    return [
        TierRuleConfig(tier=Tier.SENIOR, min_direct=10, min_month_sales_fen=500_000, uplift_bp=500),
        TierRuleConfig(tier=Tier.PARTNER, min_team=50, min_month_sales_fen=10_000_000, uplift_bp=1_000),
    ]


class CategoryRates(_Frozen):
    level1_rate_bp: int = Field(ge=0, le=10_000)
    level2_rate_bp: int = Field(ge=0, le=10_000)


class CommissionRules(_Frozen):
    """DOMAIN.md §2: a product's (or its category's) level-1 rate is what a regular distributor
    earns; tiers add an uplift; level 2 has its own rate; partners get a team bonus."""

    category_rates: dict[str, CategoryRates] = Field(default_factory=lambda: {
        "beauty": CategoryRates(level1_rate_bp=2_000, level2_rate_bp=500),
        "food": CategoryRates(level1_rate_bp=1_600, level2_rate_bp=500),
        "appliance": CategoryRates(level1_rate_bp=1_000, level2_rate_bp=500),
    })
    default_rates: CategoryRates = CategoryRates(level1_rate_bp=1_000, level2_rate_bp=500)
    team_bonus_bp: int = Field(default=300, ge=0, le=10_000)
    self_purchase: bool = False  # a distributor's own purchase pays them level 1

    def rates_for(self, category: str) -> CategoryRates:
        return self.category_rates.get(category, self.default_rates)


class OrderRules(_Frozen):
    payment_minutes: int = Field(default=15, ge=1, le=24 * 60)
    auto_confirm_days: int = Field(default=7, ge=1, le=60)
    settlement_hold_days: int = Field(default=3, ge=0, le=180)


class DeliveryRules(_Frozen):
    """Carrier tracking's rules (docs/delivery.md)."""

    on_time_hours: int = Field(default=48, ge=1, le=30 * 24)  # on-time delivery: delivered ≤ this after payment
    # automatic confirmation of a parcel the carrier never reports delivered: this long after shipping
    # (a delivered one: ``orders.auto_confirm_days`` after its delivery)
    confirm_fallback_days: int = Field(default=15, ge=1, le=90)


class WithdrawalRules(_Frozen):
    """Withdrawal limits (DOMAIN.md gives none: these defaults are ours, docs/wallet.md)."""

    minimum_fen: int = Field(default=100, ge=1)  # 1 yuan
    daily_count: int = Field(default=3, ge=1, le=100)
    daily_amount_fen: int = Field(default=500_000, ge=1)  # 5,000 yuan
    review_above_fen: int = Field(default=50_000, ge=0)  # above 500 yuan the operator approves

    def limits(self) -> WithdrawalLimits:
        return WithdrawalLimits(self.minimum_fen, self.daily_count, self.daily_amount_fen, self.review_above_fen)


class ExperimentConfig(_Frozen):
    """An A/B test (docs/experiments.md): variants with integer weights, the first is the control."""

    variants: dict[str, int] = Field(min_length=2)
    min_detectable_effect_bp: int = Field(default=200, gt=0, lt=10_000)  # absolute lift worth detecting
    baseline_bp: int = Field(default=800, gt=0, lt=10_000)  # the control's rate before it has data


def _default_experiments() -> dict[str, ExperimentConfig]:
    # DOMAIN.md §5: "hot items on the home page" should lift new-user conversion from 8% to 15%
    return {"home_layout": ExperimentConfig(variants={"A": 50, "B": 50}, min_detectable_effect_bp=700)}


class RecommendationRules(_Frozen):
    """Smart recommendation (DOMAIN.md §8, docs/experiments.md)."""

    window_days: int = Field(default=30, ge=1, le=90)  # days of counts the daily job adds up
    purchase_weight: int = Field(default=5, ge=0, le=1_000)  # popularity = weight·orders + weight·views
    view_weight: int = Field(default=1, ge=0, le=1_000)
    stored: int = Field(default=20, ge=1, le=100)  # products kept per list
    limit: int = Field(default=10, ge=1, le=50)  # products shown per list
    hot_slots: int = Field(default=4, ge=0, le=50)  # hot items always in a user's home list
    recent: int = Field(default=5, ge=1, le=20)  # recent products a home list is built from


class RepurchaseRules(_Frozen):
    """The repurchase cycle per category (DOMAIN.md §3, docs/metrics.md "Repurchase cycle"): the
    window of repurchases the median is taken over, and the seed's cycle per category (face mask
    1 month, health tea 3, smart home 6: the demo's beauty, food and appliance)."""

    window_days: int = Field(default=180, ge=7, le=365)
    seed_cycle_days: dict[str, int] = Field(default_factory=lambda: {"beauty": 30, "food": 90, "appliance": 180})

    @model_validator(mode="after")
    def _check(self) -> RepurchaseRules:
        for category, days in self.seed_cycle_days.items():
            if not 1 <= len(category) <= 64 or not 1 <= days <= 3_650:
                raise ValueError("seed_cycle_days names categories of 1 to 64 characters, each 1 to 3650 days")
        return self


class AfterSalesRules(_Frozen):
    """After-sales cases (DOMAIN.md §9, docs/after-sales.md)."""

    window_days: int = Field(default=7, ge=1, le=90)  # 七天无理由: days after receipt a buyer may open a case


class GiftPackRules(_Frozen):
    """The invitation ladder's gift pack (DOMAIN.md §9, docs/distributor-centre.md): the product
    (and SKU) sent, free, to a distributor reaching a ``gift_pack`` milestone. None: no product
    chosen yet; the milestone waits (``pending``) and is fulfilled once one is."""

    product_id: str | None = Field(default=None, min_length=1, max_length=64)
    sku_id: str | None = Field(default=None, min_length=1, max_length=64)
    quantity: int = Field(default=1, ge=1, le=10)


class TemplateConfig(_Frozen):
    """One subscribe message's template (docs/subscribe-messages.md): its id from the
    mini-program's console (订阅消息 → 我的模板; "" = not configured: nothing is sent), the page a
    tap opens (``{order_id}``-style placeholders) and WeChat's keys → our values."""

    template_id: str = Field(default="", max_length=128, pattern=r"^[A-Za-z0-9_\-]*$")
    page: str = Field(default="", max_length=256)
    fields: dict[str, str] = Field(default_factory=dict, max_length=10)


class MessageRules(_Frozen):
    """Subscribe messages (订阅消息): one template per kind, and where a tap lands."""

    miniprogram_state: str = Field(default="formal", pattern="^(formal|trial|developer)$")
    lang: str = Field(default="zh_CN", pattern="^(zh_CN|en_US|zh_HK|zh_TW)$")
    commission_credited: TemplateConfig = TemplateConfig(
        page="pages/wallet/index", fields={"amount1": "amount", "character_string2": "order_id", "time3": "at"})
    order_shipped: TemplateConfig = TemplateConfig(
        page="pages/order/detail?id={order_id}",
        fields={"character_string1": "order_id", "thing2": "carrier", "character_string3": "tracking_no",
                "thing4": "items", "time5": "at"})
    withdrawal_paid: TemplateConfig = TemplateConfig(
        page="pages/wallet/index", fields={"amount1": "amount", "time2": "at"})
    after_sales_decided: TemplateConfig = TemplateConfig(
        page="pages/after-sales/detail?id={case_id}",
        fields={"character_string1": "order_id", "phrase2": "result", "amount3": "amount", "thing4": "reason"})

    @model_validator(mode="after")
    def _check(self) -> MessageRules:
        from chalicelib.domain.subscriptions import MessageKind, template_problems

        problems = [f"{kind.value}.{p}" for kind in MessageKind for p in template_problems(kind, self.template(kind))]
        ids = [self.template(kind).template_id for kind in MessageKind if self.template(kind).template_id]
        if len(ids) != len(set(ids)):
            problems.append("two kinds share a template id (a consent is per template)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def template(self, kind: MessageKind) -> Template:
        """The domain's ``Template`` of a ``MessageKind``."""
        from chalicelib.domain.subscriptions import Template

        given: TemplateConfig = getattr(self, kind.value)
        return Template(given.template_id, given.page, dict(given.fields))
class LeaderboardRules(_Frozen):
    """Monthly leaderboards (DOMAIN.md §9, docs/leaderboards.md). The seed names no amounts:
    these defaults are ours. ``*_rewards_fen[i]`` is rank i+1's reward in fen."""

    top: int = Field(default=20, ge=1, le=100)  # rows a board shows
    sales_rewards_fen: list[int] = Field(default_factory=lambda: [50_000, 30_000, 20_000], max_length=100)
    new_customers_rewards_fen: list[int] = Field(default_factory=lambda: [30_000, 20_000, 10_000], max_length=100)
    hold_days: int = Field(default=15, ge=0, le=180)  # a reward is pending this long after it is paid
    clawback: bool = True  # a refund after the close takes back the reward's refunded share
    history_months: int = Field(default=12, ge=0, le=120)  # closed months a distributor may read

    @model_validator(mode="after")
    def _check(self) -> LeaderboardRules:
        for name in ("sales_rewards_fen", "new_customers_rewards_fen"):
            rewards = getattr(self, name)
            if len(rewards) > self.top:
                raise ValueError(f"{name} rewards more ranks ({len(rewards)}) than the board shows ({self.top})")
            if any(fen < 0 for fen in rewards) or any(b > a for a, b in itertools.pairwise(rewards)):
                raise ValueError(f"{name}: rewards are ≥ 0 and never higher for a lower rank")
        return self

    def rewards_of(self, board: str) -> tuple[int, ...]:
        return tuple(getattr(self, f"{board}_rewards_fen"))


class Rules(_Frozen):
    """The operator's business rules, defaults from DOMAIN.md §1."""

    binding: BindingRules = BindingRules()
    commission: CommissionRules = CommissionRules()
    orders: OrderRules = OrderRules()
    withdrawals: WithdrawalRules = WithdrawalRules()
    tiers: list[TierRuleConfig] = Field(default_factory=_default_tiers)
    # "never": a tier once reached is kept; "month_end": re-evaluated on last month's figures
    tier_downgrade: str = Field(default="month_end", pattern="^(never|month_end)$")
    invitation_ladder: list[Milestone] = Field(
        default_factory=lambda: [Milestone(invitees=10, reward="gift_pack"),
                                 Milestone(invitees=50, reward="cash", cash_fen=5_000)]
    )

    experiments: dict[str, ExperimentConfig] = Field(default_factory=_default_experiments)
    recommendations: RecommendationRules = RecommendationRules()
    after_sales: AfterSalesRules = AfterSalesRules()
    delivery: DeliveryRules = DeliveryRules()
    gift_pack: GiftPackRules = GiftPackRules()


    messages: MessageRules = MessageRules()  # subscribe messages (docs/subscribe-messages.md)
    leaderboards: LeaderboardRules = LeaderboardRules()
    repurchase: RepurchaseRules = RepurchaseRules()

    @model_validator(mode="after")
    def _check(self) -> Rules:
        self.tier_rules()  # raises on an inconsistent ladder
        self.ladder()
        self.experiment_definitions()
        return self

    def tier_rules(self) -> TierRules:
        return TierRules(
            tuple(TierRule(r.tier, r.min_direct, r.min_team, r.min_month_sales_fen, r.uplift_bp) for r in self.tiers),
            downgrade=self.tier_downgrade,
        )

    def ladder(self) -> InvitationLadder:
        return InvitationLadder(tuple(self.invitation_ladder))

    def experiment_definitions(self) -> dict[str, Experiment]:
        return {name: Experiment(name, tuple(c.variants.items()), c.min_detectable_effect_bp, c.baseline_bp)
                for name, c in self.experiments.items()}


GATEWAY_SECONDS = 29.0  # API Gateway's integration timeout: the caller gets a 504 after it
# What a request may spend outside its calls (Lambda start, JSON, signing) within the 29 s.
OWN_WORK_SECONDS = 2.0
# The longest request paths, as (DynamoDB calls, WeChat calls) (docs/ops.md "Time budgets"):
# a payment notification (6 DynamoDB calls) and a buyer's refund (5 and one WeChat Pay refund).
LONGEST_PATHS = ((6, 0), (5, 1))


class TimeBudgets(_Frozen):
    """How long one outside call may take before it gives up (docs/ops.md "Time budgets").

    A DynamoDB call makes at most ``dynamodb_attempts`` attempts (botocore's standard retry
    mode), each bounded by the connect and the read timeout; a WeChat call retries a failed
    connect once and never re-sends a request that left. Every request path's worst case (each
    call using all of its budget) must fit in API Gateway's 29 s: checked when settings load."""

    dynamodb_connect_seconds: float = Field(default=0.5, gt=0, le=10)
    dynamodb_read_seconds: float = Field(default=1.5, gt=0, le=30)
    dynamodb_attempts: int = Field(default=2, ge=1, le=10)
    wechat_connect_seconds: float = Field(default=1.0, gt=0, le=10)
    wechat_read_seconds: float = Field(default=3.0, gt=0, le=30)

    @model_validator(mode="after")
    def _fits_the_gateway(self) -> TimeBudgets:
        if self.request_seconds() > GATEWAY_SECONDS - OWN_WORK_SECONDS:
            raise ValueError(f"the longest request could take {self.request_seconds():.1f} s outside, more than "
                             f"API Gateway's {GATEWAY_SECONDS:.0f} s less {OWN_WORK_SECONDS:.0f} s of its own work")
        return self

    def dynamodb_call_seconds(self) -> float:
        """One DynamoDB call at worst. Before each retry botocore waits rand·2^i × 25 ms after an
        attempt that got no answer, rand·2^i × 1 s after a throttled one (which answered at once)."""
        attempt = self.dynamodb_connect_seconds + self.dynamodb_read_seconds
        waits = sum(max(attempt + 0.025 * 2 ** i, min(2 ** i, 20)) for i in range(self.dynamodb_attempts - 1))
        return waits + attempt

    def wechat_call_seconds(self) -> float:
        """One WeChat call at worst: a connect that timed out, a second one, then the read."""
        return 2 * self.wechat_connect_seconds + self.wechat_read_seconds

    def request_seconds(self) -> float:
        """The longest request path's calls at worst."""
        return max(db * self.dynamodb_call_seconds() + wechat * self.wechat_call_seconds()
                   for db, wechat in LONGEST_PATHS)


class Settings(_Frozen):
    mode: Mode = Mode.SIMULATOR
    stage: str = "dev"
    region: str = "cn-north-1"
    users_table: str = "fenxiao-dev-users"
    products_table: str = "fenxiao-dev-products"
    orders_table: str = "fenxiao-dev-orders"
    ledger_table: str = "fenxiao-dev-ledger"
    jwt_secret: str = Field(min_length=32)
    id_hash_key: str = Field(min_length=32)  # HMAC key of resident ID numbers (only their hash is stored)
    token_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    admin_openids: frozenset[str] = frozenset({"dev:admin"})
    wechat_app_id: str = "wx-simulator"
    wechat_app_secret: str = ""
    wechat_api_base: str = "https://api.weixin.qq.com"
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    content_table: str = "fenxiao-dev-content"  # lexicon versions, materials, the review queue
    analytics_table: str = "fenxiao-dev-analytics"  # day aggregates, metric rows, experiments (docs/metrics.md)
    jobs_table: str = "fenxiao-dev-jobs"  # the runs of the jobs, their slices and parts (docs/jobs.md)
    admin_table: str = "fenxiao-dev-admin"  # the audit log and the runtime settings' versions (docs/operator.md)
    support_table: str = "fenxiao-dev-support"  # customer service: conversations, messages (docs/customer-service.md)
    after_sales_table: str = "fenxiao-dev-after-sales"  # after-sales cases (docs/after-sales.md)
    promotions_table: str = "fenxiao-dev-promotions"  # promotions, their counters, users' coupons (docs/promotions.md)
    # The jobs' queue (SQS URL). Empty: a schedule runs its job's parts in-process, one after the
    # other, as `make dev` and the tests do; set, it sends them to the queue's workers (docs/jobs.md).
    jobs_queue_url: str = ""
    # A worker hands its part back (a cursor) when less than this is left of its invocation.
    job_margin_seconds: float = Field(default=15.0, ge=0, le=600)
    # In-process runs (no queue): how long a slice works before handing back, as a Lambda would.
    job_slice_seconds: float = Field(default=45.0, ge=0, le=900)
    # the table of what the WeChat simulators remember (simulator mode only, never deployed: not a
    # ``*_table`` setting, which infra/ turns into a stack's table; store/simulators.py)
    simulator_state: str = "fenxiao-dev-simulator"
    lexicon_refresh_seconds: float = Field(default=10.0, ge=0, le=3600)  # 0: read the version on every check
    # How stale a process's runtime rules may be: ``current`` is re-read at most this often
    # (docs/settings.md); at most 10 s, the promise of "in force everywhere within 10 s".
    rules_refresh_seconds: float = Field(default=5.0, ge=0, le=10)
    invite_link_template: str = Field(default="/pages/index/index?invite_code={invite_code}&material_id={material_id}",
                                      pattern=r"\{invite_code\}")
    # WeChat Pay API v3 (required in live mode; in simulator mode any given here are honoured,
    # the rest are throw-away keys generated at start)
    wechat_pay_mch_id: str = ""
    wechat_pay_apiv3_key: str = ""
    wechat_pay_merchant_serial: str = ""
    wechat_pay_merchant_private_key: str = ""
    wechat_pay_platform_public_key: str = ""
    wechat_pay_platform_key_id: str = ""
    wechat_pay_simulator_platform_private_key: str = ""
    wechat_pay_api_base: str = "https://api.mch.weixin.qq.com"
    wechat_pay_notify_url: str = "https://example.invalid/v1/wechat/pay/notify"
    # WeChat Pay merchant transfer (商家转账) for withdrawals; docs/wechat-pay.md "Merchant transfer"
    wechat_transfer_scene_id: str = Field(default="1005", pattern="^(1000|1005)$")  # 佣金报酬 / 现金营销
    wechat_transfer_report_title: str = Field(default="推广员", min_length=1, max_length=32)  # 岗位类型 / 活动名称
    wechat_transfer_perception: str = ""  # user_recv_perception; empty: the scene's default (劳务报酬)
    wechat_transfer_notify_url: str = ""  # empty: no MCHTRANSFER.BILL.FINISHED notification, poll instead
    # The mini-program's message push (消息推送, docs/customer-service.md): the Token and the
    # EncodingAESKey set in its console. Empty in simulator mode: throw-away ones generated at
    # start; empty in live mode: the push endpoint refuses every push (503) until they are set
    # (a malformed EncodingAESKey too: services/support.push_keys says why).
    wechat_message_token: str = Field(default="", max_length=64)
    wechat_message_aes_key: str = Field(default="", max_length=64)
    # Product images (docs/uploads.md): the private bucket the operator uploads to with a presigned
    # POST, and the base URL images are served from (CloudFront when deployed; empty: the bucket's
    # path-style URL on the S3 endpoint in use, e.g. the local stand-in of `make dev`).
    media_bucket: str = Field(default="fenxiao-dev-media", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    media_base_url: str = Field(default="", pattern=r"^(https?://[^\s?#]+)?$")
    upload_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1, le=50 * 1024 * 1024)
    upload_expires_seconds: int = Field(default=600, ge=60, le=3600)
    # The console's sign-in code (docs/console.md): the mini-program page it opens (the page reads
    # the scene and confirms), and the mini-program version: release, trial or develop.
    console_login_page: str = Field(default="pages/console/login", pattern=r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*$")
    console_code_env: str = Field(default="release", pattern="^(release|trial|develop)$")
    # A console form's largest body (a CSV of shipments, an image goes to S3 directly).
    console_max_body_bytes: int = Field(default=1024 * 1024, ge=64 * 1024, le=6 * 1024 * 1024)
    # Share posters (docs/posters.md): the mini-program pages their codes open (the product page
    # reads ``product_id`` from the scene; the shop page shows the sharer's shop), the version the
    # codes open, and a font file with CJK glyphs (empty: the first of the known system fonts).
    poster_product_page: str = Field(default="pages/product/index", pattern=r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*$")
    poster_shop_page: str = Field(default="pages/index/index", pattern=r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*$")
    poster_code_env: str = Field(default="release", pattern="^(release|trial|develop)$")
    poster_font: str = Field(default="", max_length=512)
    # Carrier tracking through 快递100 (docs/delivery.md): the enterprise key and customer id, the key
    # each parcel's callback salt is derived from, and the public base URL of this API its pushes
    # reach. Live mode without a key: no tracking (automatic confirmation counts from shipping).
    kuaidi100_key: str = ""
    kuaidi100_customer: str = ""
    kuaidi100_salt_key: str = ""
    kuaidi100_api_base: str = "https://poll.kuaidi100.com"
    kuaidi100_callback_base: str = Field(default="http://localhost:8000", pattern=r"^https?://[^\s?#]+$")
    # The seed of the runtime rules: version 1 while no version is saved (``FENXIAO_RULES``).
    # Services read the rules in force through ``Deps.rules``, never this (docs/settings.md).
    rules: Rules = Rules()
    budgets: TimeBudgets = TimeBudgets()

    @model_validator(mode="after")
    def _live_needs_secrets(self) -> Settings:
        if self.mode is Mode.LIVE and not self.wechat_app_secret:
            raise ValueError("WECHAT_APP_SECRET is required in live mode")
        pay = ("mch_id", "apiv3_key", "merchant_serial", "merchant_private_key", "platform_public_key",
               "platform_key_id", "notify_url")
        missing = [f"WECHAT_PAY_{name.upper()}" for name in pay if not getattr(self, f"wechat_pay_{name}")]
        if self.mode is Mode.LIVE and missing:
            raise ValueError(f"live mode needs {', '.join(missing)}")
        tracking = [f"KUAIDI100_{n.upper()}" for n in ("customer", "salt_key") if not getattr(self, f"kuaidi100_{n}")]
        if self.mode is Mode.LIVE and self.kuaidi100_key and tracking:
            raise ValueError(f"carrier tracking (KUAIDI100_KEY) needs {', '.join(tracking)}")
        return self

    @property
    def simulator(self) -> bool:
        return self.mode is Mode.SIMULATOR


_ENV = {
    "mode": "FENXIAO_MODE",
    "stage": "FENXIAO_STAGE",
    "region": "AWS_DEFAULT_REGION",
    "users_table": "USERS_TABLE",
    "products_table": "PRODUCTS_TABLE",
    "orders_table": "ORDERS_TABLE",
    "ledger_table": "LEDGER_TABLE",
    "jwt_secret": "JWT_SECRET",
    "id_hash_key": "ID_HASH_KEY",
    "token_ttl_seconds": "TOKEN_TTL_SECONDS",
    "wechat_app_id": "WECHAT_APP_ID",
    "wechat_app_secret": "WECHAT_APP_SECRET",
    "wechat_api_base": "WECHAT_API_BASE",
    "max_body_bytes": "MAX_BODY_BYTES",
    "content_table": "CONTENT_TABLE",
    "analytics_table": "ANALYTICS_TABLE",
    "jobs_table": "JOBS_TABLE",
    "admin_table": "ADMIN_TABLE",
    "support_table": "SUPPORT_TABLE",
    "wechat_message_token": "WECHAT_MESSAGE_TOKEN",
    "wechat_message_aes_key": "WECHAT_MESSAGE_AES_KEY",
    "after_sales_table": "AFTER_SALES_TABLE",
    "promotions_table": "PROMOTIONS_TABLE",
    "jobs_queue_url": "JOBS_QUEUE_URL",
    "job_margin_seconds": "JOB_MARGIN_SECONDS",
    "job_slice_seconds": "JOB_SLICE_SECONDS",
    "simulator_state": "SIMULATOR_STATE_TABLE",
    "lexicon_refresh_seconds": "LEXICON_REFRESH_SECONDS",
    "rules_refresh_seconds": "RULES_REFRESH_SECONDS",
    "invite_link_template": "INVITE_LINK_TEMPLATE",
    "media_bucket": "MEDIA_BUCKET",
    "media_base_url": "MEDIA_BASE_URL",
    "upload_max_bytes": "UPLOAD_MAX_BYTES",
    "upload_expires_seconds": "UPLOAD_EXPIRES_SECONDS",
    "console_login_page": "CONSOLE_LOGIN_PAGE",
    "console_code_env": "CONSOLE_CODE_ENV",
    "console_max_body_bytes": "CONSOLE_MAX_BODY_BYTES",
    **{f"poster_{name}": f"POSTER_{name.upper()}" for name in ("product_page", "shop_page", "code_env", "font")},
    **{f"kuaidi100_{name}": f"KUAIDI100_{name.upper()}" for name in (
        "key", "customer", "salt_key", "api_base", "callback_base")},
    **{f"wechat_pay_{name}": f"WECHAT_PAY_{name.upper()}" for name in (
        "mch_id", "apiv3_key", "merchant_serial", "merchant_private_key", "platform_public_key", "platform_key_id",
        "simulator_platform_private_key", "api_base", "notify_url")},
    **{f"wechat_transfer_{name}": f"WECHAT_TRANSFER_{name.upper()}" for name in (
        "scene_id", "report_title", "perception", "notify_url")},
}

_BUDGET_ENV = {
    "dynamodb_connect_seconds": "DYNAMODB_CONNECT_TIMEOUT_SECONDS",
    "dynamodb_read_seconds": "DYNAMODB_READ_TIMEOUT_SECONDS",
    "dynamodb_attempts": "DYNAMODB_MAX_ATTEMPTS",
    "wechat_connect_seconds": "WECHAT_CONNECT_TIMEOUT_SECONDS",
    "wechat_read_seconds": "WECHAT_READ_TIMEOUT_SECONDS",
}

# A throw-away key for simulator mode when none is configured: tokens die with the process.
_SIMULATOR_JWT_SECRET = secrets.token_urlsafe(48)
_SIMULATOR_ID_HASH_KEY = secrets.token_urlsafe(48)
_SIMULATOR_MESSAGE_TOKEN = secrets.token_hex(16)
_SIMULATOR_MESSAGE_AES_KEY = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def settings_from_env(env: Mapping[str, str]) -> Settings:
    """Build and validate settings from an environment mapping."""
    raw: dict[str, Any] = {field: env[var] for field, var in _ENV.items() if env.get(var)}
    if "ADMIN_OPENIDS" in env:
        raw["admin_openids"] = frozenset(o.strip() for o in env["ADMIN_OPENIDS"].split(",") if o.strip())
    if budgets := {field: env[var] for field, var in _BUDGET_ENV.items() if env.get(var)}:
        raw["budgets"] = budgets
    if env.get("FENXIAO_RULES"):
        raw["rules"] = json.loads(env["FENXIAO_RULES"])
    if "jwt_secret" not in raw and raw.get("mode", Mode.SIMULATOR.value) == Mode.SIMULATOR.value:
        raw["jwt_secret"] = _SIMULATOR_JWT_SECRET
    if "id_hash_key" not in raw and raw.get("mode", Mode.SIMULATOR.value) == Mode.SIMULATOR.value:
        raw["id_hash_key"] = _SIMULATOR_ID_HASH_KEY
    if raw.get("mode", Mode.SIMULATOR.value) == Mode.SIMULATOR.value:
        raw.setdefault("wechat_message_token", _SIMULATOR_MESSAGE_TOKEN)
        raw.setdefault("wechat_message_aes_key", _SIMULATOR_MESSAGE_AES_KEY)
    return Settings.model_validate(raw)


def get_settings() -> Settings:
    """The settings in force: the environment, with the values of the secret that
    ``FENXIAO_SECRET_ID`` names laid over it (chalicelib/secrets.py). The secret is read on first
    use and again once its cache is older than its max age; the same Settings object is returned
    until its values change. Raises SecretError when the secret cannot be read or is malformed."""
    from chalicelib.secrets import secret_settings

    return settings_with(secret_settings(os.environ))


@lru_cache(maxsize=1)
def settings_with(secret: tuple[tuple[str, str], ...]) -> Settings:
    return settings_from_env({**os.environ, **dict(secret)})


def env_vars() -> dict[str, str]:
    """Settings field → the environment variable it is read from (infra/ names the tables with it)."""
    return dict(_ENV)

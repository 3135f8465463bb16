/**
 * The client against the running local stack, as a mini-program would use it: login → bind →
 * checkout → simulated payment → order paid; a retried checkout with one key → one order; an
 * expired token renewed once; a refusal arriving as a typed code.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import { type Client, newIdempotencyKey } from "../../src/client";
import { ApiError, NetworkError, isApiError, type ApiErrorCode } from "../../src/errors";
import type { DeclaredErrors } from "../../src/generated/contract";
import { formatFen } from "../../src/money";
import type { Schema } from "../../src/types";
import { apiError, rejection } from "../assert-error";
import { clientFor, expiredToken, simulatePayment, someone } from "./stack";

const ADDRESS: Schema<"ShortAddressIn"> = { name: "张三", phone: "13800000000", detail: "上海市徐汇区漕溪北路 1 号" };

interface Buyable {
    line: Schema<"LineIn">;
    price_fen: number;
}

/** A line of one unit of a product in stock (its first SKU in stock when it has SKUs), and its price. */
async function somethingToBuy(client: Client): Promise<Buyable> {
    const listed = await client.get("/v1/products");
    for (const item of listed.items.filter((product) => product.stock > 0)) {
        const page = await client.get("/v1/products/{product_id}", { path: { product_id: item.product_id } });
        if (page.skus.length === 0) {
            return { line: { product_id: item.product_id, quantity: 1 }, price_fen: item.price_fen };
        }
        const sku = page.skus.find((candidate) => candidate.stock > 0);
        if (sku !== undefined) {
            return { line: { product_id: item.product_id, sku_id: sku.sku_id, quantity: 1 }, price_fen: sku.price_fen };
        }
    }
    return assert.fail("the demo catalogue has a product in stock");
}

test("login, bind to a distributor, check out, pay in the simulator: the order is paid", async () => {
    const alice = clientFor(someone("alice"));
    const shop = await alice.client.post("/v1/me/distributor", { body: { shop_name: "Alice 小店" } });
    assert.equal(alice.wx.logins, 1, "the first call that needs a token logged in once");

    const bob = clientFor(someone("bob"));
    const bound = await bob.client.post("/v1/referrals/bind", { body: { invite_code: shop.invite_code } });
    const me = await alice.client.get("/v1/me");
    assert.equal(bound.parent_id, me.user_id);

    const product = await somethingToBuy(bob.client);
    const order = await bob.client.post("/v1/orders", { body: { items: [product.line], address: ADDRESS } });
    assert.equal(order.status, "pending_payment");
    assert.equal(order.amount_fen, product.price_fen);
    assert.ok(Number.isSafeInteger(order.amount_fen));
    assert.match(formatFen(order.amount_fen), /^¥[\d,]+\.\d\d$/);
    const [checkout] = bob.wx.to("POST", "/v1/orders");
    assert.match(checkout?.header["Idempotency-Key"] ?? "", /^[A-Za-z0-9_-]{1,64}$/, "the client sent a key of its own");

    const paid = await simulatePayment(order.order_id);
    assert.equal(paid.status, "paid");
    const seen = await bob.client.get("/v1/orders/{order_id}", { path: { order_id: order.order_id } });
    assert.equal(seen.status, "paid");
});

test("a checkout whose answer is lost is sent again with the same key: one order", async () => {
    const buyer = clientFor(someone("lost-answer"));
    const product = await somethingToBuy(buyer.client);
    buyer.wx.loseAnswers(1);

    const order = await buyer.client.post("/v1/orders", { body: { items: [product.line], address: ADDRESS } });

    const sent = buyer.wx.to("POST", "/v1/orders");
    assert.deepEqual(sent.map((request) => request.status), ["lost", 201]);
    assert.equal(sent[0]?.header["Idempotency-Key"], sent[1]?.header["Idempotency-Key"]);
    const mine = await buyer.client.get("/v1/me/orders");
    assert.deepEqual(mine.items.map((item) => item.order_id), [order.order_id]);
});

test("the same checkout sent twice with one key makes one order, and another key another", async () => {
    const buyer = clientFor(someone("same-key"));
    const body = { items: [(await somethingToBuy(buyer.client)).line], address: ADDRESS };
    const key = newIdempotencyKey();

    const first = await buyer.client.post("/v1/orders", { body, idempotencyKey: key });
    const again = await buyer.client.post("/v1/orders", { body, idempotencyKey: key });
    assert.equal(again.order_id, first.order_id);
    assert.deepEqual((await buyer.client.get("/v1/me/orders")).items.map((item) => item.order_id), [first.order_id]);

    const other = await buyer.client.post("/v1/orders", { body });
    assert.notEqual(other.order_id, first.order_id);
    assert.equal((await buyer.client.get("/v1/me/orders")).items.length, 2);
});

test("a checkout that got no answer at all can be finished later with the key its error carries", async () => {
    const buyer = clientFor(someone("later"));
    const body = { items: [(await somethingToBuy(buyer.client)).line], address: ADDRESS };
    buyer.wx.loseAnswers(4); // the first send and its 3 retries

    const failure = await rejection(buyer.client.post("/v1/orders", { body }));
    assert.ok(failure instanceof NetworkError);
    assert.ok(failure.idempotencyKey);

    const order = await buyer.client.post("/v1/orders", { body, idempotencyKey: failure.idempotencyKey });
    assert.deepEqual((await buyer.client.get("/v1/me/orders")).items.map((item) => item.order_id), [order.order_id]);
});

test("an expired token is renewed once: one login, then the call answers", async () => {
    const user = clientFor(someone("expired"));
    const me = await user.client.get("/v1/me");
    assert.equal(user.wx.logins, 1);
    user.session.set(expiredToken(me.user_id));

    const again = await user.client.get("/v1/me");

    assert.equal(again.user_id, me.user_id);
    assert.equal(user.wx.logins, 2);
    assert.deepEqual(user.wx.to("GET", "/v1/me").map((request) => request.status), [200, 401, 200]);
    assert.notEqual(user.session.get(), expiredToken(me.user_id));
});

test("a refusal arrives as a typed error code", async () => {
    const user = clientFor(someone("typed"));
    const failure = await rejection(user.client.post("/v1/referrals/bind", { body: { invite_code: "NOSUCHCODE" } }));

    assert.ok(isApiError(failure, "INVITE_CODE_NOT_FOUND"));
    assert.equal(failure.status, 404);
    assert.equal(failure.serverCode, "INVITE_CODE_NOT_FOUND");
    // The code is the contract's union, not a string: a code the contract lacks does not compile.
    const code: ApiErrorCode = failure.code;
    // @ts-expect-error -- "INVITE_NOT_FOUND" is not a code of the contract
    assert.notEqual(code === "INVITE_NOT_FOUND", true);
    const declared: DeclaredErrors["bind"][] = ["INVITE_CODE_NOT_FOUND", "ALREADY_BOUND", "SELF_REFERRAL"];
    assert.ok(declared.includes("INVITE_CODE_NOT_FOUND"));
    assert.ok(failure instanceof ApiError);
});

test("invalid input arrives as VALIDATION_FAILED with the fields, nothing ordered", async () => {
    const buyer = clientFor(someone("invalid"));
    const { line } = await somethingToBuy(buyer.client);
    const failure = apiError(
        await rejection(buyer.client.post("/v1/orders", { body: { items: [{ ...line, quantity: 0 }], address: ADDRESS } })),
        "VALIDATION_FAILED",
    );

    assert.equal(failure.status, 422);
    assert.ok(Array.isArray(failure.details["fields"]));
    assert.deepEqual((await buyer.client.get("/v1/me/orders")).items, []);
});

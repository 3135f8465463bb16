import assert from "node:assert/strict";
import { test } from "node:test";

import { Client, type ClientOptions } from "../../src/client";
import { ApiError, NetworkError, UNLISTED_CODE, isApiError } from "../../src/errors";
import { memorySession } from "../../src/session";
import { apiError, rejection } from "../assert-error";
import { ScriptedWx, error, loggedIn, type Reply } from "./scripted-wx";
import type { WxRequestOptions } from "../../src/wx";

const BASE = "https://api.example.test/";
const ORDER = { items: [{ product_id: "p1", quantity: 1 }], address: { name: "张三", phone: "13800000000", detail: "上海" } };
const PLACED = { status: 201, body: { order_id: "o1", status: "pending_payment", amount_fen: 100, payment: null, pay_deadline: "2026-12-06T00:00:00Z" } };

function setUp(reply: (request: WxRequestOptions, index: number) => Reply, options: Partial<ClientOptions> = {}) {
    const wx = new ScriptedWx(reply);
    const waits: number[] = [];
    const session = memorySession();
    session.set("token-0");
    let keys = 0;
    const client = new Client({
        baseUrl: BASE,
        wx,
        session,
        sleep: async (ms) => {
            waits.push(ms);
        },
        newIdempotencyKey: () => `key-${(keys += 1)}`,
        ...options,
    });
    return { client, wx, waits, session };
}

const header = (request: WxRequestOptions | undefined, name: string) => request?.header[name];

test("503 TRY_AGAIN is sent again after its Retry-After, with the same Idempotency-Key", async () => {
    const { client, wx, waits } = setUp((_request, index) => (index < 2 ? error(503, "TRY_AGAIN", { "retry-after": "2" }) : PLACED));

    const order = await client.post("/v1/orders", { body: ORDER });

    assert.equal(order.order_id, "o1");
    assert.deepEqual(waits, [2000, 2000]);
    assert.deepEqual(wx.requests.map((request) => header(request, "Idempotency-Key")), ["key-1", "key-1", "key-1"]);
    assert.equal(header(wx.requests[0], "Authorization"), "Bearer token-0");
});

test("TRY_AGAIN past the retries arrives as the error, with the action's key", async () => {
    const { client, wx, waits } = setUp(() => error(503, "TRY_AGAIN"), { retries: 2 });

    assert.equal(apiError(await rejection(client.post("/v1/orders", { body: ORDER })), "TRY_AGAIN").idempotencyKey, "key-1");
    assert.equal(wx.requests.length, 3);
    assert.deepEqual(waits, [1000, 1000], "no Retry-After: 1 s");
});

test("a Retry-After beyond the cap waits the cap", async () => {
    const { client, waits } = setUp((_request, index) => (index === 0 ? error(503, "TRY_AGAIN", { "Retry-After": "3600" }) : { status: 200, body: { user_id: "u1" } }), {
        maxRetryAfterSeconds: 5,
    });
    await client.get("/v1/me");
    assert.deepEqual(waits, [5000]);
});

test("another 503 (not TRY_AGAIN) is not retried", async () => {
    const { client, wx } = setUp(() => error(503, "WXACODE_REFUSED"));
    await assert.rejects(client.get("/v1/me"), (failure: unknown) => isApiError(failure, "WXACODE_REFUSED"));
    assert.equal(wx.requests.length, 1);
});

test("each call is its own logical action: its own key", async () => {
    const { client, wx } = setUp(() => PLACED);
    await client.post("/v1/orders", { body: ORDER });
    await client.post("/v1/orders", { body: ORDER });
    await client.post("/v1/orders", { body: ORDER, idempotencyKey: "mine" });
    assert.deepEqual(wx.requests.map((request) => header(request, "Idempotency-Key")), ["key-1", "key-2", "mine"]);
});

test("a route without an Idempotency-Key gets none", async () => {
    const { client, wx } = setUp(() => ({ status: 200, body: { parent_id: "a", grandparent_id: null } }));
    await client.post("/v1/referrals/bind", { body: { invite_code: "ABC" } });
    assert.equal(header(wx.requests[0], "Idempotency-Key"), undefined);
});

test("401 UNAUTHENTICATED renews the session once and sends the call again", async () => {
    const { client, wx, session } = setUp((request) => {
        if (request.url.endsWith("/v1/auth/login")) return loggedIn("token-1");
        return header(request, "Authorization") === "Bearer token-1" ? { status: 200, body: { user_id: "u1" } } : error(401, "UNAUTHENTICATED");
    });

    const me = await client.get("/v1/me");

    assert.equal(me.user_id, "u1");
    assert.equal(wx.logins, 1);
    assert.deepEqual(wx.paths(), ["GET /v1/me", "POST /v1/auth/login", "GET /v1/me"]);
    assert.equal(JSON.parse(wx.requests[1]?.data ?? "{}").code, "code-1");
    assert.equal(session.get(), "token-1");
});

test("a renewed token refused again is not renewed twice: the 401 arrives", async () => {
    const { client, wx } = setUp((request) => (request.url.endsWith("/v1/auth/login") ? loggedIn("token-1") : error(401, "UNAUTHENTICATED")));

    await assert.rejects(client.get("/v1/me"), (failure: unknown) => isApiError(failure, "UNAUTHENTICATED"));
    assert.equal(wx.logins, 1);
    assert.deepEqual(wx.paths(), ["GET /v1/me", "POST /v1/auth/login", "GET /v1/me"]);
});

test("calls refused together share one renewal", async () => {
    const { client, wx } = setUp((request) => {
        if (request.url.endsWith("/v1/auth/login")) return loggedIn("token-1");
        return header(request, "Authorization") === "Bearer token-1" ? { status: 200, body: { user_id: "u1" } } : error(401, "UNAUTHENTICATED");
    });

    await Promise.all([client.get("/v1/me"), client.get("/v1/me"), client.get("/v1/me")]);

    assert.equal(wx.logins, 1);
    assert.equal(wx.paths().filter((path) => path === "POST /v1/auth/login").length, 1);
});

test("without a token, a call that needs one logs in first; a public route does not", async () => {
    const { client, wx, session } = setUp((request) => (request.url.endsWith("/v1/auth/login") ? loggedIn("token-1") : { status: 200, body: { user_id: "u1" } }));
    session.set(undefined);

    await client.get("/v1/products/{product_id}/recommendations", { path: { product_id: "p1" } });
    assert.equal(wx.logins, 0);
    assert.equal(header(wx.requests[0], "Authorization"), undefined);

    await client.get("/v1/me");
    assert.equal(wx.logins, 1);
    assert.equal(header(wx.requests[2], "Authorization"), "Bearer token-1");
});

test("the login retries TRY_AGAIN with a new wx.login code each time", async () => {
    const { client, wx } = setUp((_request, index) => (index === 0 ? error(503, "TRY_AGAIN") : loggedIn("token-1")));
    const answer = await client.login();
    assert.equal(answer.token, "token-1");
    assert.deepEqual(wx.requests.map((request) => JSON.parse(request.data ?? "{}").code), ["code-1", "code-2"]);
});

test("a refused login arrives as WECHAT_LOGIN_FAILED and keeps no token", async () => {
    const { client, session } = setUp(() => error(401, "WECHAT_LOGIN_FAILED"));
    session.set(undefined);
    await assert.rejects(client.login(), (failure: unknown) => isApiError(failure, "WECHAT_LOGIN_FAILED"));
    assert.equal(session.get(), undefined);
});

test("no answer to a checkout: sent again with the same key", async () => {
    const { client, wx } = setUp((_request, index) => (index === 0 ? { fail: "request:fail timeout" } : PLACED));
    await client.post("/v1/orders", { body: ORDER });
    assert.deepEqual(wx.requests.map((request) => header(request, "Idempotency-Key")), ["key-1", "key-1"]);
});

test("no answer to a call without a key is not sent again (it might do it twice)", async () => {
    const { client, wx } = setUp(() => ({ fail: "request:fail timeout" }));
    await assert.rejects(client.post("/v1/referrals/bind", { body: { invite_code: "ABC" } }), (failure: unknown) => {
        assert.ok(failure instanceof NetworkError);
        assert.equal(failure.message, "request:fail timeout");
        assert.equal(failure.idempotencyKey, undefined);
        return true;
    });
    assert.equal(wx.requests.length, 1);
});

test("no answer to a GET is sent again, then arrives as a NetworkError", async () => {
    const { client, wx, waits } = setUp(() => ({ fail: "request:fail timeout" }));
    await assert.rejects(client.get("/v1/me"), NetworkError);
    assert.equal(wx.requests.length, 4);
    assert.deepEqual(waits, [500, 1000, 2000]);
});

test("a code the package does not know arrives as UNLISTED_CODE, the server's code kept", async () => {
    const { client } = setUp(() => error(409, "SOMETHING_NEWER"));
    await assert.rejects(client.get("/v1/me"), (failure: unknown) => {
        assert.ok(failure instanceof ApiError);
        assert.equal(failure.code, UNLISTED_CODE);
        assert.equal(failure.serverCode, "SOMETHING_NEWER");
        assert.equal(failure.status, 409);
        return true;
    });
});

test("an answer that is not the service's error (a gateway's page) arrives as UNLISTED_CODE", async () => {
    const { client } = setUp(() => ({ status: 502, body: "<html>Bad Gateway</html>" }));
    await assert.rejects(client.get("/v1/me"), (failure: unknown) => isApiError(failure, UNLISTED_CODE) && failure.serverCode === "" && failure.message === "HTTP 502");
});

test("an error's other fields are its details", async () => {
    const hits = [{ word: "x", start: 0, end: 1 }];
    const { client } = setUp(() => ({ status: 422, body: { error: { code: "CONTENT_BLOCKED", message: "blocked", hits } } }));
    const failure = apiError(await rejection(client.post("/v1/me/distributor", { body: { shop_name: "x" } })), "CONTENT_BLOCKED");
    assert.deepEqual(failure.details, { hits });
});

test("path parameters are encoded, the query built, a missing path parameter refused before sending", async () => {
    const { client, wx } = setUp(() => ({ status: 200, body: { items: [], next: null } }));
    await client.get("/v1/orders/{order_id}", { path: { order_id: "a/b c" } });
    await client.get("/v1/me/orders", { query: { limit: 5, next: "x y" } });
    await client.get("/v1/me/orders");
    assert.deepEqual(wx.requests.map((request) => request.url), [
        "https://api.example.test/v1/orders/a%2Fb%20c",
        "https://api.example.test/v1/me/orders?limit=5&next=x%20y",
        "https://api.example.test/v1/me/orders",
    ]);
    // @ts-expect-error -- the path parameter is required by the type; at run time too
    await assert.rejects(client.get("/v1/orders/{order_id}", {}), TypeError);
    assert.equal(wx.requests.length, 3);
});

test("a JSON body is sent as JSON text; a GET has none", async () => {
    const { client, wx } = setUp(() => PLACED);
    await client.post("/v1/orders", { body: ORDER });
    assert.equal(wx.requests[0]?.data, JSON.stringify(ORDER));
    assert.equal(header(wx.requests[0], "Content-Type"), "application/json");
    await client.get("/v1/me");
    assert.equal(wx.requests[1]?.data, undefined);
});

test("authorization() gives the session's header for calls around wx.request, logging in only when needed", async () => {
    const { client, wx, session } = setUp(() => loggedIn("token-1"));
    assert.deepEqual(await client.authorization(), { Authorization: "Bearer token-0" });
    assert.equal(wx.logins, 0);
    session.set(undefined);
    assert.deepEqual(await client.authorization(), { Authorization: "Bearer token-1" });
    assert.equal(wx.logins, 1);
});

test("a failed login leaves no login in flight: the next call logs in anew", async () => {
    const { client, wx } = setUp((_request, index) => (index === 0 ? error(401, "WECHAT_LOGIN_FAILED") : loggedIn("token-1")));
    await assert.rejects(client.login(), (failure: unknown) => isApiError(failure, "WECHAT_LOGIN_FAILED"));
    assert.equal((await client.login()).token, "token-1");
    assert.equal(wx.logins, 2);
});

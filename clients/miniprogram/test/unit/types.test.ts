/**
 * The types hold the mini-program to the contract: these lines compile only while the client's
 * types accept what the contract allows and refuse what it does not (each `@ts-expect-error` fails
 * the build when its line stops being an error). The refused calls are never run.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import { Client } from "../../src/client";
import type { Answer, Schema } from "../../src/types";
import { memorySession, wxStorageSession } from "../../src/session";
import { ScriptedWx } from "./scripted-wx";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <A, B>(proof: Equal<A, B>): Equal<A, B> => proof;

/** Never called: each line must fail to compile. */
export async function refusedByTheTypes(client: Client): Promise<void> {
    // @ts-expect-error -- no such path
    await client.get("/v1/no-such-path");
    // @ts-expect-error -- GET /v1/orders does not exist (only POST)
    await client.get("/v1/orders");
    // @ts-expect-error -- the body is required
    await client.post("/v1/referrals/bind");
    // @ts-expect-error -- a field the body does not have (the contract says invite_code)
    await client.post("/v1/referrals/bind", { body: { code: "ABC" } });
    // @ts-expect-error -- the order's id is a path parameter
    await client.get("/v1/orders/{order_id}");
    // @ts-expect-error -- a route without an Idempotency-Key takes no key (the service would not honour it)
    await client.post("/v1/referrals/bind", { body: { invite_code: "ABC" }, idempotencyKey: "k" });
    // @ts-expect-error -- amounts are integer fen as numbers, never strings
    await client.post("/v1/me/withdrawals", { body: { amount_fen: "100" } });

}

test("answers, bodies and parameters are the contract's", async () => {
    const wx = new ScriptedWx(() => ({ status: 200, body: {} }));
    const session = memorySession();
    session.set("t");
    const client = new Client({ baseUrl: "https://api.example.test", wx, session });

    same<Answer<"/v1/orders", "post">, Schema<"CheckoutAnswer">>(true);
    same<Answer<"/v1/me", "get">, Schema<"UserOut">>(true);
    same<Answer<"/v1/orders/{order_id}", "get">["amount_fen"], number>(true);

    await client.get("/v1/me");
    await client.get("/v1/me/orders", { query: { limit: 10 } });
    await client.post("/v1/referrals/bind", { body: { invite_code: "ABC" } });
    assert.deepEqual(wx.paths(), ["GET /v1/me", "GET /v1/me/orders", "POST /v1/referrals/bind"]);
});

test("wxStorageSession keeps the token in the mini-program's storage", () => {
    const stored = new Map<string, string>();
    const storage = {
        getStorageSync: (key: string) => stored.get(key) ?? "",
        setStorageSync: (key: string, value: string) => stored.set(key, value),
        removeStorageSync: (key: string) => stored.delete(key),
    };
    const session = wxStorageSession(storage);
    assert.equal(session.get(), undefined, "wx answers \"\" for a missing key");
    session.set("token-1");
    assert.equal(stored.get("fenxiao.session"), "token-1");
    assert.equal(wxStorageSession(storage).get(), "token-1", "a relaunch finds it");
    session.set(undefined);
    assert.equal(stored.has("fenxiao.session"), false);
});

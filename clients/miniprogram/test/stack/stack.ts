/**
 * The running local stack these tests talk to: `scripts/client_e2e.py` starts it (DynamoDB Local,
 * the S3 stand-in and `chalice local` in simulator mode) and gives its URL and JWT key.
 */
import { createHmac, randomBytes } from "node:crypto";

import { Client } from "../../src/client";
import { memorySession, type SessionStore } from "../../src/session";
import { FetchWx } from "../fetch-wx";

function required(name: string): string {
    const value = process.env[name];
    if (value === undefined || value === "") {
        throw new Error(`${name} is not set: run these tests through \`make test-client\` (scripts/client_e2e.py starts the stack)`);
    }
    return value;
}

export const API_URL = required("FENXIAO_API_URL");
const JWT_SECRET = required("FENXIAO_JWT_SECRET");

/** A fresh simulator user's name: tests share one stack, each makes its own users. */
export function someone(role: string): string {
    return `dev:client-${role}-${randomBytes(4).toString("hex")}`;
}

export interface Session {
    client: Client;
    wx: FetchWx;
    session: SessionStore;
}

/** A client whose `wx.login` always answers `code` (one user), waiting only 10 ms between tries. */
export function clientFor(code: string): Session {
    const wx = new FetchWx(() => code);
    const session = memorySession();
    const client = new Client({ baseUrl: API_URL, wx, session, sleep: () => new Promise((resolve) => setTimeout(resolve, 10)) });
    return { client, wx, session };
}

/** A session token for `userId` that expired a minute ago, signed with the stack's key (HS256). */
export function expiredToken(userId: string): string {
    const now = Math.floor(Date.now() / 1000);
    const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString("base64url");
    const unsigned = `${encode({ alg: "HS256", typ: "JWT" })}.${encode({ sub: userId, role: "user", iss: "fenxiao", iat: now - 3600, exp: now - 60 })}`;
    return `${unsigned}.${createHmac("sha256", JWT_SECRET).update(unsigned).digest("base64url")}`;
}

/** `POST /v1/dev/pay/{order_id}`: the WeChat Pay simulator pays the order (a simulator route, so not
 * in the deployed contract's types: called over plain fetch). */
export async function simulatePayment(orderId: string): Promise<{ status: string }> {
    const response = await fetch(`${API_URL}/v1/dev/pay/${encodeURIComponent(orderId)}`, { method: "POST" });
    if (response.status !== 200) {
        throw new Error(`the payment simulator answered ${response.status}: ${await response.text()}`);
    }
    return (await response.json()) as { status: string };
}

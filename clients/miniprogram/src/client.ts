/**
 * The thin layer every mini-program writes around `wx.request`, written once against the contract:
 *
 * - the base URL and JSON both ways;
 * - the session: `wx.login` + `POST /v1/auth/login` when a call needs a token and there is none, and
 *   once more when the service answers `401 UNAUTHENTICATED` (an expired token); never a loop;
 * - an Idempotency-Key per logical action (one call) on the routes that take one, the same key on
 *   every retry of that call, and on the errors so that a later try can reuse it;
 * - `503 TRY_AGAIN` sent again after its `Retry-After`; a request that got no answer sent again only
 *   when that cannot do anything twice (a GET, or a route with an Idempotency-Key);
 * - refusals as `ApiError` whose `code` is a typed union of the contract's codes.
 */
import type { components, paths } from "./generated/api";
import { IDEMPOTENT_ROUTES, PUBLIC_ROUTES } from "./generated/contract";
import { ApiError, NetworkError } from "./errors";
import { memorySession, type SessionStore } from "./session";
import type { Answer, CallArgs, Method, PathsWith } from "./types";
import type { HttpMethod, Wx, WxFailure, WxRequestSuccess } from "./wx";

declare function setTimeout(handler: () => void, ms: number): unknown;

export type LoginAnswer = components["schemas"]["LoginAnswer"];

export interface ClientOptions {
    /** The service, e.g. `https://api.example.com` (no trailing path). */
    baseUrl: string;
    /** The mini-program's `wx` (or, in tests, an adapter over fetch). */
    wx: Wx;
    /** Where the token is kept; default: in memory. */
    session?: SessionStore;
    /** How many times one call is sent again after `503 TRY_AGAIN` or no answer. Default 3. */
    retries?: number;
    /** The longest `Retry-After` obeyed, in seconds (a longer one waits this long). Default 30. */
    maxRetryAfterSeconds?: number;
    /** Milliseconds a request may take before it counts as unanswered. Default 10,000. */
    timeoutMs?: number;
    /** Told each login's answer (e.g. to greet a `new_user`). */
    onLogin?: (answer: LoginAnswer) => void;
    /** Waits between tries; tests replace it. */
    sleep?: (ms: number) => Promise<void>;
    /** Makes a new Idempotency-Key; tests replace it. */
    newIdempotencyKey?: () => string;
}

/** A call's init, as the typed methods have checked it. */
interface RawInit {
    path?: Record<string, unknown>;
    query?: Record<string, unknown>;
    body?: unknown;
    idempotencyKey?: string;
}

interface Sent {
    method: HttpMethod;
    url: string;
    body: string | undefined;
    idempotencyKey: string | undefined;
    needsToken: boolean;
}

const LOGIN_PATH = "/v1/auth/login";
const IDEMPOTENT: ReadonlySet<string> = new Set(IDEMPOTENT_ROUTES);
const PUBLIC: ReadonlySet<string> = new Set(PUBLIC_ROUTES);

export class Client {
    private readonly baseUrl: string;
    private readonly wx: Wx;
    private readonly session: SessionStore;
    private readonly retries: number;
    private readonly maxRetryAfterMs: number;
    private readonly timeoutMs: number;
    private readonly onLogin: ((answer: LoginAnswer) => void) | undefined;
    private readonly sleep: (ms: number) => Promise<void>;
    private readonly newKey: () => string;
    private loggingIn: Promise<LoginAnswer> | undefined;

    constructor(options: ClientOptions) {
        this.baseUrl = options.baseUrl.replace(/\/+$/, "");
        this.wx = options.wx;
        this.session = options.session ?? memorySession();
        this.retries = options.retries ?? 3;
        this.maxRetryAfterMs = (options.maxRetryAfterSeconds ?? 30) * 1000;
        this.timeoutMs = options.timeoutMs ?? 10_000;
        this.onLogin = options.onLogin;
        this.sleep = options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
        this.newKey = options.newIdempotencyKey ?? newIdempotencyKey;
    }

    get<P extends PathsWith<"get">>(path: P, ...args: CallArgs<P, "get">): Promise<Answer<P, "get">> {
        return this.call("get", path, args[0] as RawInit | undefined) as Promise<Answer<P, "get">>;
    }

    post<P extends PathsWith<"post">>(path: P, ...args: CallArgs<P, "post">): Promise<Answer<P, "post">> {
        return this.call("post", path, args[0] as RawInit | undefined) as Promise<Answer<P, "post">>;
    }

    put<P extends PathsWith<"put">>(path: P, ...args: CallArgs<P, "put">): Promise<Answer<P, "put">> {
        return this.call("put", path, args[0] as RawInit | undefined) as Promise<Answer<P, "put">>;
    }

    patch<P extends PathsWith<"patch">>(path: P, ...args: CallArgs<P, "patch">): Promise<Answer<P, "patch">> {
        return this.call("patch", path, args[0] as RawInit | undefined) as Promise<Answer<P, "patch">>;
    }

    delete<P extends PathsWith<"delete">>(path: P, ...args: CallArgs<P, "delete">): Promise<Answer<P, "delete">> {
        return this.call("delete", path, args[0] as RawInit | undefined) as Promise<Answer<P, "delete">>;
    }

    /** Log in now (`wx.login` + `POST /v1/auth/login`); concurrent callers share one login. */
    login(): Promise<LoginAnswer> {
        if (this.loggingIn === undefined) {
            const done = () => {
                this.loggingIn = undefined;
            };
            this.loggingIn = this.freshLogin();
            this.loggingIn.then(done, done);
        }
        return this.loggingIn;
    }

    /** The Authorization header of the session, logging in first when there is none: for what goes
     * around `wx.request`, such as `wx.downloadFile` of the share poster (`GET /v1/me/poster`, a PNG). */
    async authorization(): Promise<{ Authorization: string }> {
        if (this.session.get() === undefined) {
            await this.login();
        }
        return { Authorization: `Bearer ${this.session.get() ?? ""}` };
    }

    /** Forget the session token (the next call that needs one logs in). */
    logout(): void {
        this.session.set(undefined);
    }

    private async call(method: Method, path: keyof paths, init: RawInit | undefined): Promise<unknown> {
        const parts = init ?? {};
        const route = `${method.toUpperCase()} ${path}`;
        const sent: Sent = {
            method: method.toUpperCase() as HttpMethod,
            url: this.baseUrl + fillPath(path, parts.path) + queryString(parts.query),
            body: parts.body === undefined ? undefined : JSON.stringify(parts.body),
            idempotencyKey: IDEMPOTENT.has(route) ? (parts.idempotencyKey ?? this.newKey()) : undefined,
            needsToken: !PUBLIC.has(route),
        };
        let renewed = false;
        if (sent.needsToken && this.session.get() === undefined) {
            await this.login();
            renewed = true; // a token this fresh that is refused is not renewed again
        }
        for (let retry = 0; ; retry += 1) {
            const token = sent.needsToken ? this.session.get() : undefined;
            let result: WxRequestSuccess;
            try {
                result = await this.send(sent, token);
            } catch (failure) {
                // Unanswered: maybe done. Sent again only where that cannot do it twice.
                const safe = sent.method === "GET" || sent.idempotencyKey !== undefined;
                if (!(failure instanceof NetworkError) || !safe || retry >= this.retries) {
                    throw failure;
                }
                await this.sleep(backoffMs(retry));
                continue;
            }
            if (result.statusCode >= 200 && result.statusCode < 300) {
                return result.statusCode === 204 ? undefined : result.data;
            }
            const error = new ApiError(result.statusCode, result.data, sent.idempotencyKey);
            if (error.status === 401 && error.code === "UNAUTHENTICATED" && sent.needsToken && !renewed) {
                renewed = true;
                await this.renew(token);
                retry -= 1; // a renewal is not one of the retries
                continue;
            }
            if (error.status === 503 && error.code === "TRY_AGAIN" && retry < this.retries) {
                await this.sleep(this.retryAfterMs(result.header));
                continue;
            }
            throw error;
        }
    }

    /** A new token in place of `refused`: the login in flight if there is one (calls refused together
     * share it), none if another call already renewed it, else a login. */
    private async renew(refused: string | undefined): Promise<void> {
        if (this.loggingIn !== undefined) {
            await this.loggingIn;
        } else if (this.session.get() === refused) {
            await this.login();
        }
    }

    /** `wx.login` then the login call; each try takes a new code (a code is good for one exchange). */
    private async freshLogin(): Promise<LoginAnswer> {
        for (let retry = 0; ; retry += 1) {
            const code = await this.wxLoginCode();
            const sent: Sent = { method: "POST", url: this.baseUrl + LOGIN_PATH, body: JSON.stringify({ code }), idempotencyKey: undefined, needsToken: false };
            let result: WxRequestSuccess;
            try {
                result = await this.send(sent, undefined);
            } catch (failure) {
                if (!(failure instanceof NetworkError) || retry >= this.retries) {
                    throw failure;
                }
                await this.sleep(backoffMs(retry));
                continue;
            }
            if (result.statusCode === 200) {
                const answer = result.data as LoginAnswer;
                this.session.set(answer.token);
                this.onLogin?.(answer);
                return answer;
            }
            const error = new ApiError(result.statusCode, result.data, undefined);
            if (error.status === 503 && error.code === "TRY_AGAIN" && retry < this.retries) {
                await this.sleep(this.retryAfterMs(result.header));
                continue;
            }
            throw error;
        }
    }

    private wxLoginCode(): Promise<string> {
        return new Promise((resolve, reject) => {
            this.wx.login({
                timeout: this.timeoutMs,
                success: (result) => resolve(result.code),
                fail: (failure: WxFailure) => reject(new NetworkError(failure.errMsg, undefined)),
            });
        });
    }

    private send(sent: Sent, token: string | undefined): Promise<WxRequestSuccess> {
        const header: Record<string, string> = { Accept: "application/json" };
        if (sent.body !== undefined) {
            header["Content-Type"] = "application/json";
        }
        if (token !== undefined) {
            header["Authorization"] = `Bearer ${token}`;
        }
        if (sent.idempotencyKey !== undefined) {
            header["Idempotency-Key"] = sent.idempotencyKey;
        }
        return new Promise((resolve, reject) => {
            this.wx.request({
                url: sent.url,
                method: sent.method,
                ...(sent.body === undefined ? {} : { data: sent.body }),
                header,
                dataType: "json",
                timeout: this.timeoutMs,
                success: resolve,
                fail: (failure) => reject(new NetworkError(failure.errMsg, sent.idempotencyKey)),
            });
        });
    }

    /** `Retry-After` (seconds or an HTTP date) in milliseconds, 1 s when absent, capped. */
    private retryAfterMs(header: Record<string, string>): number {
        const value = Object.entries(header).find(([name]) => name.toLowerCase() === "retry-after")?.[1];
        if (value === undefined || value.trim() === "") {
            return 1000;
        }
        const seconds = Number(value);
        const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
        return Math.min(Math.max(Number.isFinite(ms) ? ms : 1000, 0), this.maxRetryAfterMs);
    }
}

export function createClient(options: ClientOptions): Client {
    return new Client(options);
}

/** A key for one logical action: time and randomness, within the contract's `[A-Za-z0-9_-]{1,64}`.
 * Unique enough per user (the service scopes keys to the caller); not a secret. */
export function newIdempotencyKey(): string {
    let random = "";
    for (let i = 0; i < 4; i += 1) {
        random += Math.floor(Math.random() * 0x1_0000_0000).toString(16).padStart(8, "0");
    }
    return `${Date.now().toString(36)}-${random}`;
}

/** The pause before resending a request that got no answer: 0.5, 1, 2, 4, 8 s. */
function backoffMs(retry: number): number {
    return Math.min(500 * 2 ** retry, 8000);
}

function fillPath(path: string, values: Record<string, unknown> | undefined): string {
    return path.replace(/\{(\w+)\}/g, (_match, name: string) => {
        const value = values?.[name];
        if (value === undefined || value === null || value === "") {
            throw new TypeError(`${path}: the path parameter ${name} is missing`);
        }
        return encodeURIComponent(String(value));
    });
}

function queryString(query: Record<string, unknown> | undefined): string {
    const pairs: string[] = [];
    for (const [name, value] of Object.entries(query ?? {})) {
        for (const item of Array.isArray(value) ? value : [value]) {
            if (item !== undefined && item !== null) {
                pairs.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(item))}`);
            }
        }
    }
    return pairs.length === 0 ? "" : `?${pairs.join("&")}`;
}

/**
 * The slice of the mini-program's `wx` object that the client uses: `wx.request` and `wx.login`.
 * Declared here, not imported from a typings package, so that the package has no dependency; the
 * real `wx` satisfies it, and the tests supply an adapter over `fetch` (test/fetch-wx.ts).
 */

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface WxRequestSuccess {
    /** The HTTP status. */
    statusCode: number;
    /** The body: parsed JSON when it was JSON (`dataType: "json"`), else the text. */
    data: unknown;
    /** The answer's headers, names as the server sent them (compare them case-insensitively). */
    header: Record<string, string>;
}

/** A request that got no answer (no network, a timeout, a refused domain): `errMsg` says why. */
export interface WxFailure {
    errMsg: string;
}

export interface WxRequestOptions {
    url: string;
    method: HttpMethod;
    /** The body, already JSON text (wx sends a string as it is). */
    data?: string;
    header: Record<string, string>;
    dataType: "json";
    /** Milliseconds before the request fails with a timeout. */
    timeout?: number;
    success(result: WxRequestSuccess): void;
    fail(failure: WxFailure): void;
}

export interface WxLoginOptions {
    /** Milliseconds before the login fails. */
    timeout?: number;
    success(result: { code: string }): void;
    fail(failure: WxFailure): void;
}

/** What the client needs of `wx`: pass the mini-program's global `wx`. */
export interface Wx {
    request(options: WxRequestOptions): unknown;
    login(options: WxLoginOptions): unknown;
}

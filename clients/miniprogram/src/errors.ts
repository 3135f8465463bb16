/**
 * What a call can fail with: an answer of the service (`ApiError`, its `code` one of the contract's
 * codes) or no answer at all (`NetworkError`). Both carry the Idempotency-Key of the action, so a
 * mini-program that lets its user try again later can send the same key: the service then does it
 * at most once.
 */
import { ERROR_CODES, type ErrorCode } from "./generated/contract";

/** The code of an answer whose code this package does not know (a service newer than the package,
 * or an answer that was not the service's own, such as a gateway's 502 page). */
export const UNLISTED_CODE = "UNLISTED_CODE";

export type ApiErrorCode = ErrorCode | typeof UNLISTED_CODE;

const KNOWN: ReadonlySet<string> = new Set<string>(ERROR_CODES);

export function isErrorCode(value: unknown): value is ErrorCode {
    return typeof value === "string" && KNOWN.has(value);
}

export class ApiError extends Error {
    override readonly name = "ApiError";
    /** One of the contract's codes, or UNLISTED_CODE (then `serverCode` holds what came). */
    readonly code: ApiErrorCode;
    /** The code exactly as answered ("" when the answer was not an error of the service). */
    readonly serverCode: string;
    /** The HTTP status. */
    readonly status: number;
    /** The error object's other fields (e.g. `hits` of CONTENT_BLOCKED, `fields` of VALIDATION_FAILED). */
    readonly details: Readonly<Record<string, unknown>>;
    /** The key the action was sent with, when its route takes one. */
    readonly idempotencyKey: string | undefined;

    constructor(status: number, body: unknown, idempotencyKey: string | undefined) {
        const error = errorObject(body);
        const serverCode = typeof error?.["code"] === "string" ? error["code"] : "";
        const message = typeof error?.["message"] === "string" ? error["message"] : `HTTP ${status}`;
        super(message);
        this.status = status;
        this.serverCode = serverCode;
        this.code = isErrorCode(serverCode) ? serverCode : UNLISTED_CODE;
        const { code: _code, message: _message, ...details } = error ?? {};
        this.details = details;
        this.idempotencyKey = idempotencyKey;
    }
}

export class NetworkError extends Error {
    override readonly name = "NetworkError";
    /** The key the action was sent with: send it again to finish the action at most once. */
    readonly idempotencyKey: string | undefined;

    constructor(errMsg: string, idempotencyKey: string | undefined) {
        super(errMsg);
        this.idempotencyKey = idempotencyKey;
    }
}

/** `ApiError` with a given code: `if (isApiError(e, "OUT_OF_STOCK")) ...`. */
export function isApiError<C extends ApiErrorCode>(value: unknown, code?: C): value is ApiError & { readonly code: C } {
    return value instanceof ApiError && (code === undefined || value.code === code);
}

function errorObject(body: unknown): Record<string, unknown> | undefined {
    if (typeof body !== "object" || body === null || !("error" in body)) {
        return undefined;
    }
    const error: unknown = body.error;
    return typeof error === "object" && error !== null ? (error as Record<string, unknown>) : undefined;
}

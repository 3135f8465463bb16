import assert from "node:assert/strict";

import { ApiError, isApiError, type ApiErrorCode } from "../src/errors";

/** `value` as the ApiError of `code` (narrowed, as `isApiError` narrows in a mini-program's catch),
 * or the test fails saying what came instead. */
export function apiError<C extends ApiErrorCode>(value: unknown, code: C): ApiError & { readonly code: C } {
    if (!isApiError(value, code)) {
        assert.fail(`expected ApiError ${code}, got ${value instanceof ApiError ? `${value.code} (${value.serverCode})` : String(value)}`);
    }
    return value;
}

/** The rejection of `promise` (the test fails when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
        (value) => assert.fail(`expected a rejection, got ${JSON.stringify(value)}`),
        (error: unknown) => error,
    );
}

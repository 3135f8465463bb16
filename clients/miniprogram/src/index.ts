/** @fenxiao/miniprogram-client: the fenxiao contract, typed, over `wx.request` (docs/client.md). */
export { Client, createClient, newIdempotencyKey, type ClientOptions, type LoginAnswer } from "./client";
export { ApiError, NetworkError, UNLISTED_CODE, isApiError, isErrorCode, type ApiErrorCode } from "./errors";
export { formatFen, type FormatFenOptions } from "./money";
export { memorySession, wxStorageSession, type SessionStore, type WxStorage } from "./session";
export type { Answer, CallArgs, CallInit, CallOptions, Method, PathsWith, Schema } from "./types";
export type { HttpMethod, Wx, WxFailure, WxLoginOptions, WxRequestOptions, WxRequestSuccess } from "./wx";
export { ERROR_CODES, IDEMPOTENT_ROUTES, PUBLIC_ROUTES, type DeclaredErrors, type ErrorCode } from "./generated/contract";
export type { components, operations, paths } from "./generated/api";

/**
 * Type-level plumbing from the generated `paths` (openapi-typescript) to the client's calls: which
 * paths take a method, what a call must pass (path parameters, query, body) and what it answers.
 */
import type { paths } from "./generated/api";

export type Method = "get" | "post" | "put" | "patch" | "delete";

/** The operation of `path` for `method` (never when the path has no such method). */
export type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;

/** The paths that answer `method`. */
export type PathsWith<M extends Method> = {
    [P in keyof paths]: [Operation<P, M>] extends [never] ? never : P;
}[keyof paths];

type Parameters<O> = O extends { parameters: infer X } ? X : never;
type Part<O, K extends string> = Parameters<O> extends { [key in K]?: infer X } ? X : never;
/** Whether the operation may leave out its part `K` (an optional property, `?:`). */
type MayOmit<O, K extends string> = Parameters<O> extends { [key in K]: unknown } ? false : true;

type PathPart<O> = [NonNullable<Part<O, "path">>] extends [never] ? { path?: never } : { path: NonNullable<Part<O, "path">> };

type QueryPart<O> = [NonNullable<Part<O, "query">>] extends [never]
    ? { query?: never }
    : MayOmit<O, "query"> extends true
      ? { query?: NonNullable<Part<O, "query">> }
      : { query: NonNullable<Part<O, "query">> };

type RequestBody<O> = O extends { requestBody: { content: { "application/json": infer B } } } ? B : never;
type BodyPart<O> = [RequestBody<O>] extends [never] ? { body?: never } : { body: RequestBody<O> };

/** What a call of a route that takes an Idempotency-Key may pass besides its own parts. */
export interface CallOptions {
    /** The Idempotency-Key of this logical action. Leave it out and the client makes one per call,
     * reused on the call's own retries; pass the key of an earlier failed call
     * (`error.idempotencyKey`) to finish that action rather than start another. */
    idempotencyKey?: string;
}

type KeyPart<O> = Parameters<O> extends { header: { "Idempotency-Key": string } } ? CallOptions : { idempotencyKey?: never };

/** The second argument of a call of `method` on `path`. */
export type CallInit<P extends keyof paths, M extends Method> = PathPart<Operation<P, M>> &
    QueryPart<Operation<P, M>> &
    BodyPart<Operation<P, M>> &
    KeyPart<Operation<P, M>>;

type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];

/** The init argument, optional when the operation needs nothing. */
export type CallArgs<P extends keyof paths, M extends Method> = [RequiredKeys<CallInit<P, M>>] extends [never]
    ? [init?: CallInit<P, M>]
    : [init: CallInit<P, M>];

type SuccessStatus = 200 | 201 | 202 | 204;
type Responses<O> = O extends { responses: infer R } ? R : never;
type JsonOf<R> = R extends { content: { "application/json": infer A } } ? A : R extends { content: infer C } ? C[keyof C] : undefined;

/** The answer of a successful call: the JSON of its 2xx response (`undefined` when it has none). */
export type Answer<P extends keyof paths, M extends Method> = {
    [S in keyof Responses<Operation<P, M>> & SuccessStatus]: JsonOf<Responses<Operation<P, M>>[S]>;
}[keyof Responses<Operation<P, M>> & SuccessStatus];

/** A schema of the contract by name: `Schema<"CheckoutAnswer">`. */
export type Schema<N extends keyof import("./generated/api").components["schemas"]> =
    import("./generated/api").components["schemas"][N];

/** A `wx` whose answers a test scripts, recording every request and login: the client's rules
 * (retries, renewals, keys) checked without a server. */
import type { Wx, WxLoginOptions, WxRequestOptions } from "../../src/wx";

export type Reply = { status: number; body?: unknown; header?: Record<string, string> } | { fail: string };

export class ScriptedWx implements Wx {
    readonly requests: WxRequestOptions[] = [];
    logins = 0;

    /** `reply(request, index)` answers the index-th request (logins are answered with `code-N`). */
    constructor(private readonly reply: (request: WxRequestOptions, index: number) => Reply) {}

    login(options: WxLoginOptions): void {
        this.logins += 1;
        const code = `code-${this.logins}`;
        queueMicrotask(() => options.success({ code }));
    }

    request(options: WxRequestOptions): void {
        const index = this.requests.push(options) - 1;
        const reply = this.reply(options, index);
        queueMicrotask(() => {
            if ("fail" in reply) {
                options.fail({ errMsg: reply.fail });
            } else {
                options.success({ statusCode: reply.status, data: reply.body ?? "", header: reply.header ?? {} });
            }
        });
    }

    paths(): string[] {
        return this.requests.map((request) => `${request.method} ${new URL(request.url).pathname}`);
    }
}

export function error(status: number, code: string, header: Record<string, string> = {}): Reply {
    return { status, body: { error: { code, message: code.toLowerCase() } }, header };
}

export function loggedIn(token: string): Reply {
    return { status: 200, body: { token, new_user: false, user: { user_id: "u1" } } };
}

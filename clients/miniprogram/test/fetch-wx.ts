/**
 * `wx.request` and `wx.login` over Node's fetch, for the tests: the client runs here exactly as in
 * the mini-program, against the local stack. Like the real `wx.request`, it parses a JSON answer
 * (`dataType: "json"`) and reports a request that got no answer through `fail`.
 *
 * It also records what was sent, and can lose answers: `loseAnswers(n)` delivers the next n
 * requests to the service and then reports them failed, as a dropped connection would after the
 * service committed.
 */
import type { Wx, WxLoginOptions, WxRequestOptions } from "../src/wx";

export interface SentRequest {
    method: string;
    url: string;
    header: Record<string, string>;
    body: string | undefined;
    status: number | "lost" | "failed";
}

export class FetchWx implements Wx {
    readonly sent: SentRequest[] = [];
    logins = 0;
    private lose = 0;

    /** `code()` answers each `wx.login` (a simulator code such as `dev:alice`). */
    constructor(private readonly code: () => string) {}

    loseAnswers(count: number): void {
        this.lose = count;
    }

    login(options: WxLoginOptions): void {
        this.logins += 1;
        queueMicrotask(() => options.success({ code: this.code() }));
    }

    request(options: WxRequestOptions): void {
        const record: SentRequest = { method: options.method, url: options.url, header: { ...options.header }, body: options.data, status: "failed" };
        this.sent.push(record);
        const init: RequestInit = { method: options.method, headers: options.header };
        if (options.data !== undefined) {
            init.body = options.data;
        }
        if (options.timeout !== undefined) {
            init.signal = AbortSignal.timeout(options.timeout);
        }
        fetch(options.url, init)
            .then(async (response) => {
                const text = await response.text();
                if (this.lose > 0) {
                    this.lose -= 1;
                    record.status = "lost";
                    options.fail({ errMsg: "request:fail the answer was lost (test)" });
                    return;
                }
                record.status = response.status;
                const header: Record<string, string> = {};
                response.headers.forEach((value, name) => {
                    header[name] = value;
                });
                options.success({ statusCode: response.status, data: parseJson(text), header });
            })
            .catch((error: unknown) => {
                options.fail({ errMsg: `request:fail ${String(error)}` });
            });
    }

    /** The requests sent to `path` (the URL's path, without the query). */
    to(method: string, path: string): SentRequest[] {
        return this.sent.filter((request) => request.method === method && new URL(request.url).pathname === path);
    }
}

function parseJson(text: string): unknown {
    try {
        return JSON.parse(text) as unknown;
    } catch {
        return text;
    }
}

/**
 * Where the session token lives between calls. In memory by default; `wxStorageSession` keeps it in
 * the mini-program's storage so that a relaunch does not log in again while the token is valid.
 */

export interface SessionStore {
    get(): string | undefined;
    /** `undefined` forgets the token. */
    set(token: string | undefined): void;
}

export function memorySession(): SessionStore {
    let token: string | undefined;
    return {
        get: () => token,
        set: (value) => {
            token = value;
        },
    };
}

/** The slice of `wx` that `wxStorageSession` uses (the real `wx` satisfies it). */
export interface WxStorage {
    getStorageSync(key: string): unknown;
    setStorageSync(key: string, value: string): unknown;
    removeStorageSync(key: string): unknown;
}

export function wxStorageSession(storage: WxStorage, key = "fenxiao.session"): SessionStore {
    return {
        get: () => {
            const value = storage.getStorageSync(key);
            return typeof value === "string" && value !== "" ? value : undefined;
        },
        set: (value) => {
            if (value === undefined) {
                storage.removeStorageSync(key);
            } else {
                storage.setStorageSync(key, value);
            }
        },
    };
}

import assert from "node:assert/strict";
import { test } from "node:test";

import { formatFen } from "../../src/money";

test("fen become yuan with two decimals, grouped by thousands", () => {
    assert.equal(formatFen(0), "¥0.00");
    assert.equal(formatFen(5), "¥0.05");
    assert.equal(formatFen(1299), "¥12.99");
    assert.equal(formatFen(120000), "¥1,200.00");
    assert.equal(formatFen(123456789), "¥1,234,567.89");
});

test("a negative amount (a clawback) keeps its sign before the symbol", () => {
    assert.equal(formatFen(-50), "-¥0.50");
    assert.equal(formatFen(-120000), "-¥1,200.00");
});

test("the symbol and the whole-yuan decimals are options", () => {
    assert.equal(formatFen(1200, { symbol: "" }), "12.00");
    assert.equal(formatFen(1200, { trimWholeYuan: true }), "¥12");
    assert.equal(formatFen(1250, { trimWholeYuan: true }), "¥12.50");
});

test("anything but whole fen is refused, never rounded", () => {
    assert.throws(() => formatFen(12.5), RangeError);
    assert.throws(() => formatFen(Number.NaN), RangeError);
    assert.throws(() => formatFen(2 ** 53), RangeError);
});

test("the largest safe amount formats exactly (integer arithmetic only)", () => {
    assert.equal(formatFen(Number.MAX_SAFE_INTEGER), "¥90,071,992,547,409.91");
});

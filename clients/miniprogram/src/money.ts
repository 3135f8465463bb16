/**
 * Money is an integer number of fen everywhere in the contract (fields ending in `_fen`): never a
 * float. This is the one place that turns fen into text for a person, with integer arithmetic only.
 */

export interface FormatFenOptions {
    /** The currency sign before the amount; `""` for none. Default `"¥"`. */
    symbol?: string;
    /** Leave out `.00` for whole yuan (`¥12` rather than `¥12.00`). Default false. */
    trimWholeYuan?: boolean;
}

/**
 * `formatFen(1299)` → `"¥12.99"`; `formatFen(-50)` → `"-¥0.50"`; `formatFen(120000)` → `"¥1,200.00"`.
 * Throws a RangeError for anything but a safe integer: an amount that is not whole fen is a bug
 * upstream, and showing it rounded would hide it.
 */
export function formatFen(fen: number, options: FormatFenOptions = {}): string {
    if (!Number.isSafeInteger(fen)) {
        throw new RangeError(`formatFen: ${String(fen)} is not a whole number of fen`);
    }
    const symbol = options.symbol ?? "¥";
    const magnitude = Math.abs(fen);
    const yuan = Math.floor(magnitude / 100);
    const cents = magnitude % 100;
    const grouped = String(yuan).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    const fraction = options.trimWholeYuan && cents === 0 ? "" : `.${String(cents).padStart(2, "0")}`;
    return `${fen < 0 ? "-" : ""}${symbol}${grouped}${fraction}`;
}

import { beforeEach, describe, expect, test } from "@odoo/hoot";
import { patchTranslations } from "@web/../tests/web_test_helpers";

import { orderedRange, PERIODS, periodError, periodPresets } from "@builtin_telephony/utils/periods";

describe.current.tags("headless");

beforeEach(() => patchTranslations());

test("the presets: the server's keys (tools/wallet_periods.PERIODS), in order, with their labels", () => {
    expect(PERIODS).toEqual(["this_week", "last_week", "this_month", "last_month", "this_quarter", "last_quarter", "custom"]);
    expect(periodPresets().map(([key, label]) => [key, String(label)])).toEqual([
        ["this_week", "This week"],
        ["last_week", "Last week"],
        ["this_month", "This month"],
        ["last_month", "Last month"],
        ["this_quarter", "This quarter"],
        ["last_quarter", "Last quarter"],
        ["custom", "Custom range"],
    ]);
});

test("a custom range needs both its dates; a preset needs none", () => {
    const missing = "Choose both dates of the custom range.";
    expect(String(periodError("custom", "", ""))).toBe(missing);
    expect(String(periodError("custom", "2026-11-01", ""))).toBe(missing);
    expect(String(periodError("custom", "", "2026-11-30"))).toBe(missing);
    expect(periodError("custom", "2026-11-01", "2026-11-30")).toBe("");
    for (const period of ["", "this_week", "last_quarter"]) {
        expect(periodError(period, "", "")).toBe("");
    }
});

test("a custom range picked either way round is the same range", () => {
    expect(orderedRange("2026-11-01", "2026-11-30")).toEqual(["2026-11-01", "2026-11-30"]);
    expect(orderedRange("2026-11-30", "2026-11-01")).toEqual(["2026-11-01", "2026-11-30"]);
    expect(orderedRange("2026-12-31", "2027-01-01")).toEqual(["2026-12-31", "2027-01-01"]);
    expect(orderedRange("2026-11-05", "2026-11-05")).toEqual(["2026-11-05", "2026-11-05"]);
    expect(orderedRange("2026-11-30", "")).toEqual(["2026-11-30", ""]);
});

/** @odoo-module **/
import { _t } from "@web/core/l10n/translation";
import { deserializeDate, formatDate } from "@web/core/l10n/dates";

/**
 * The period presets shared by the credit analytics (W6) and the call history (H1). The keys are
 * the server's (`tools/wallet_periods.PERIODS`): the server turns them into dates, in the user's
 * time zone, and answers the first and last day it used.
 */
export const PERIODS = [
    "this_week",
    "last_week",
    "this_month",
    "last_month",
    "this_quarter",
    "last_quarter",
    "custom",
];

/** `[key, label]` of each preset, in the order of the select. */
export function periodPresets() {
    const labels = {
        this_week: _t("This week"),
        last_week: _t("Last week"),
        this_month: _t("This month"),
        last_month: _t("Last month"),
        this_quarter: _t("This quarter"),
        last_quarter: _t("Last quarter"),
        custom: _t("Custom range"),
    };
    return PERIODS.map((key) => [key, labels[key]]);
}

/** Why the period cannot be asked for yet (a custom range needs both dates), or "". */
export function periodError(period, dateFrom, dateTo) {
    if (period === "custom" && (!dateFrom || !dateTo)) {
        return _t("Choose both dates of the custom range.");
    }
    return "";
}

/**
 * The first and last day of a custom range, in order: the user may pick them either way round
 * (the credit analytics' server orders them; the call history's refuses a reversed range).
 */
export function orderedRange(dateFrom, dateTo) {
    return dateFrom && dateTo && dateFrom > dateTo ? [dateTo, dateFrom] : [dateFrom, dateTo];
}

/** A day the server sent (`YYYY-MM-DD`) as the user's language writes dates. */
export function formatDay(value) {
    return value ? formatDate(deserializeDate(value)) : "";
}

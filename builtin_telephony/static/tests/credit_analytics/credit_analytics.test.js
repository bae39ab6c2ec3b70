import { defineMailModels } from "@mail/../tests/mail_test_helpers";
import { describe, expect, test } from "@odoo/hoot";
import { queryAll, queryOne } from "@odoo/hoot-dom";
import { Deferred, animationFrame } from "@odoo/hoot-mock";
import {
    contains,
    defineModels,
    defineParams,
    fields,
    models,
    mountView,
    onRpc,
    preloadBundle,
} from "@web/../tests/web_test_helpers";
import { presetOptions } from "@builtin_telephony/../tests/helpers/periods";

describe.current.tags("desktop");

// The credit analytics of Plan details: the period presets shared with the call history
// (utils/periods.js), `telephony.account.get_credit_analytics` as figures and a bar chart.

class TelephonyAccount extends models.Model {
    _name = "telephony.account";
    name = fields.Char();
    _records = [{ id: 1, name: "YourCompany" }];
}

defineMailModels(); // the add-on depends on mail, whose services start with the web client
defineModels([TelephonyAccount]);
preloadBundle("web.chartjs_lib");

/** `get_credit_analytics`'s answer, as the server sends it for each period. */
const ANSWERS = {
    this_month: {
        purchased: 25, used: 3.4567, date_from: "2026-11-01", date_to: "2026-11-30", bucket: "day",
        series: [{ label: "2026-11-01", purchased: 25, used: 0 }, { label: "2026-11-02", purchased: 0, used: 3.4567 }],
    },
    last_quarter: {
        purchased: 1234.5, used: 0, date_from: "2026-07-01", date_to: "2026-09-30", bucket: "week",
        series: [{ label: "2026-06-29", purchased: 1234.5, used: 0 }, { label: "2026-07-06", purchased: 0, used: 0 }],
    },
    custom: {
        purchased: 0, used: 10, date_from: "2025-11-01", date_to: "2026-10-31", bucket: "month",
        series: [{ label: "2025-11-01", purchased: 0, used: 4 }, { label: "2025-12-01", purchased: 0, used: 6 }],
    },
};

function serveAnalytics({ slow = {} } = {}) {
    onRpc("telephony.account", "get_credit_analytics", async ({ args, kwargs }) => {
        expect.step(`get_credit_analytics ${JSON.stringify([args, kwargs.date_from, kwargs.date_to])}`);
        await slow[args[1]];
        return ANSWERS[args[1]];
    });
}

async function mountPlanDetails() {
    await mountView({
        type: "form",
        resModel: "telephony.account",
        resId: 1,
        arch: `<form><sheet><widget name="telephony_credit_analytics"/></sheet></form>`,
    });
}

function chart() {
    return Chart.getChart(queryOne(".o_telephony_credit_chart canvas"));
}

test("this month by default: the figures, the days and a bar per day", async () => {
    serveAnalytics();
    await mountPlanDetails();
    expect.verifySteps([`get_credit_analytics [[[1],"this_month"],false,false]`]);
    expect(queryAll("select.o_telephony_period option").map((option) => [option.value, option.textContent])).toEqual(presetOptions());
    expect("select.o_telephony_period").toHaveValue("this_month");
    expect(".o_telephony_purchased").toHaveText("25.00");
    expect(".o_telephony_used").toHaveText("3.46");
    expect(".o_telephony_credit_analytics .text-muted.small:first").toHaveText("11/01/2026 – 11/30/2026");
    expect(chart().data.labels).toEqual(["1 Nov", "2 Nov"]);
    expect(chart().data.datasets.map(({ label, data }) => [label, data])).toEqual([
        ["Credits purchased", [25, 0]],
        ["Credits used", [0, 3.4567]],
    ]);
});

test("another preset: the server's period, weeks named by their first day", async () => {
    serveAnalytics();
    await mountPlanDetails();
    const drawn = chart();
    await contains("select.o_telephony_period").select("last_quarter");
    expect.verifySteps([
        `get_credit_analytics [[[1],"this_month"],false,false]`,
        `get_credit_analytics [[[1],"last_quarter"],false,false]`,
    ]);
    expect(".o_telephony_purchased").toHaveText("1,234.50");
    expect(".o_telephony_credit_analytics .text-muted.small:first").toHaveText("07/01/2026 – 09/30/2026");
    expect(chart()).toBe(drawn); // redrawn, not a second chart on the canvas
    expect(chart().data.labels).toEqual(["Week of 29 Jun", "Week of 6 Jul"]);
});

/** Picks a day in a date input (Hoot's `edit` cannot read an empty date input). */
async function setDate(selector, value) {
    const input = queryOne(selector);
    input.value = value;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    await animationFrame();
}

test("a custom range is asked for once both its dates are chosen; months for a long one", async () => {
    serveAnalytics();
    await mountPlanDetails();
    await contains("select.o_telephony_period").select("custom");
    expect(".o_telephony_credit_analytics .alert-warning").toHaveText("Choose both dates of the custom range.");
    await setDate("input.o_telephony_date_from", "2025-11-01");
    expect.verifySteps([`get_credit_analytics [[[1],"this_month"],false,false]`]);
    await setDate("input.o_telephony_date_to", "2026-10-31");
    expect.verifySteps([`get_credit_analytics [[[1],"custom"],"2025-11-01","2026-10-31"]`]);
    expect(".o_telephony_credit_analytics .alert-warning").toHaveCount(0);
    expect(chart().data.labels).toEqual(["Nov 2025", "Dec 2025"]);
});

test("answers that cross: only the last period's figures are shown", async () => {
    const slow = new Deferred();
    serveAnalytics({ slow: { last_quarter: slow } });
    await mountPlanDetails();
    await contains("select.o_telephony_period").select("last_quarter");
    await contains("select.o_telephony_period").select("this_month");
    slow.resolve();
    await animationFrame();
    expect(".o_telephony_purchased").toHaveText("25.00");
    expect(chart().data.labels).toEqual(["1 Nov", "2 Nov"]);
    expect.verifySteps([
        `get_credit_analytics [[[1],"this_month"],false,false]`,
        `get_credit_analytics [[[1],"last_quarter"],false,false]`,
        `get_credit_analytics [[[1],"this_month"],false,false]`,
    ]);
});

test("figures in the user's language", async () => {
    defineParams({ lang_parameters: { decimal_point: ",", thousands_sep: ".", date_format: "%d/%m/%Y" } });
    serveAnalytics();
    await mountPlanDetails();
    await contains("select.o_telephony_period").select("last_quarter");
    expect(".o_telephony_purchased").toHaveText("1.234,50");
    expect(".o_telephony_credit_analytics .text-muted.small:first").toHaveText("01/07/2026 – 30/09/2026");
    expect.verifySteps([
        `get_credit_analytics [[[1],"this_month"],false,false]`,
        `get_credit_analytics [[[1],"last_quarter"],false,false]`,
    ]);
});

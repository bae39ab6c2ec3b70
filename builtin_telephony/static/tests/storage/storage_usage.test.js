import { defineMailModels } from "@mail/../tests/mail_test_helpers";
import { describe, expect, test } from "@odoo/hoot";
import { queryOne } from "@odoo/hoot-dom";
import { animationFrame } from "@odoo/hoot-mock";
import {
    contains,
    defineParams,
    defineModels,
    fields,
    models,
    mountView,
    onRpc,
    preloadBundle,
} from "@web/../tests/web_test_helpers";

describe.current.tags("desktop");

// The Plan details' storage section: `telephony.account.get_storage_usage` drawn as figures, a
// bar and a chart of the minutes stored against the plan, month by month.

const PLAN_MINUTES = { free: 1000, "50k": 50000, "200k": 200000, "1m": 1000000 };

class TelephonyAccount extends models.Model {
    _name = "telephony.account";
    name = fields.Char();
    storage_plan = fields.Selection({
        selection: [
            ["free", "1,000 minutes (free)"],
            ["50k", "50,000 minutes"],
            ["200k", "200,000 minutes"],
            ["1m", "1,000,000 minutes"],
        ],
    });
    _records = [{ id: 1, name: "YourCompany", storage_plan: "free" }];
}

defineMailModels(); // the add-on depends on mail, whose services start with the web client
defineModels([TelephonyAccount]);
preloadBundle("web.chartjs_lib");

/** The server's answer for `used` minutes stored, the last three months. */
function usage(plan, used, series) {
    return {
        used_minutes: used,
        limit_minutes: PLAN_MINUTES[plan],
        plan,
        retention: "never",
        series: series || [
            { month: "2026-09", recorded: 0, used: 0 },
            { month: "2026-10", recorded: 12.5, used: 12.5 },
            { month: "2026-11", recorded: used - 12.5, used },
        ],
    };
}

/**
 * The server: the account's plan and the minutes stored. A test changes them, then the plan on
 * the page, as the plan change does (it saves the plan, then the page reloads the record).
 */
const server = {};

function serveUsage(plan, used) {
    Object.assign(server, { plan, used });
    onRpc("telephony.account", "get_storage_usage", ({ args }) => {
        expect.step(`get_storage_usage ${JSON.stringify(args)}`);
        return usage(server.plan, server.used);
    });
}

async function changePlan(plan, used = server.used) {
    Object.assign(server, { plan, used });
    await contains(".o_field_widget[name=storage_plan] select").select(JSON.stringify(plan));
    // The widget's record observer runs on the next frame, then renders.
    await animationFrame();
    await animationFrame();
}

async function mountPlanDetails() {
    await mountView({
        type: "form",
        resModel: "telephony.account",
        resId: 1,
        arch: `<form><sheet>
            <field name="name"/>
            <field name="storage_plan"/>
            <widget name="telephony_storage_usage"/>
        </sheet></form>`,
    });
}

function chart() {
    return Chart.getChart(queryOne(".o_telephony_storage_chart canvas"));
}

function datasets() {
    return chart().data.datasets.map(({ type, label, data }) => ({ type, label, data }));
}

test("minutes stored against the plan, month by month", async () => {
    serveUsage("free", 30);
    await mountPlanDetails();
    expect.verifySteps(["get_storage_usage [[1]]"]);
    expect(".o_telephony_storage_figures").toHaveText("30 / 1,000 min");
    expect(".o_telephony_storage_usage .progress").toHaveAttribute("aria-valuenow", "3");
    expect(".o_telephony_storage_usage .progress-bar").toHaveClass("bg-info");
    expect(".o_telephony_storage_usage .progress-bar").toHaveStyle({ width: /^3(\.\d+)?%$/ }, { inline: true });
    expect(".o_telephony_storage_full").toHaveCount(0);
    // The months as a calendar names them; what each month recorded as bars, what was stored at
    // its end as a line, and the plan's minutes as a flat line to compare with.
    expect(chart().data.labels).toEqual(["Sep 2026", "Oct 2026", "Nov 2026"]);
    expect(datasets()).toEqual([
        { type: "bar", label: "Minutes recorded", data: [0, 12.5, 17.5] },
        { type: "line", label: "Minutes stored", data: [0, 12.5, 30] },
        { type: "line", label: "Plan", data: [1000, 1000, 1000] },
    ]);
    expect(chart().options.scales.y.beginAtZero).toBe(true);
});

test("the bar turns amber from 80%, red and a warning when the storage is full", async () => {
    serveUsage("free", 799.9);
    await mountPlanDetails();
    expect(".o_telephony_storage_usage .progress-bar").toHaveClass("bg-info");
    for (const [minutes, plan, color, full] of [
        [40000, "50k", "bg-warning", false],
        [800, "free", "bg-warning", false],
        [1000, "50k", "bg-info", false],
        [1000, "free", "bg-danger", true],
        [1500.5, "50k", "bg-info", false],
        [1500.5, "free", "bg-danger", true],
    ]) {
        await changePlan(plan, minutes);
        expect(".o_telephony_storage_usage .progress-bar").toHaveClass(color, { message: `${minutes} minutes of ${plan}` });
        expect(".o_telephony_storage_full").toHaveCount(full ? 1 : 0, { message: `${minutes} minutes of ${plan}` });
    }
    expect.verifySteps(Array(7).fill("get_storage_usage [[1]]"));
    // Beyond the plan (recordings stored before a smaller plan), the bar stops at 100%.
    expect(".o_telephony_storage_usage .progress").toHaveAttribute("aria-valuenow", "100");
    expect(".o_telephony_storage_figures").toHaveText("1,500.5 / 1,000 min");
    expect(".o_telephony_storage_full").toHaveText(
        "The storage is full: new recordings are not stored. Change the storage plan or the retention."
    );
});

test("a plan change reloads the figures and redraws the same chart", async () => {
    serveUsage("free", 30);
    await mountPlanDetails();
    const before = chart();
    // Another field of the page changing does not ask the server again.
    await contains(".o_field_widget[name=name] input").edit("Another name");
    expect.verifySteps(["get_storage_usage [[1]]"]);
    await changePlan("200k");
    expect.verifySteps(["get_storage_usage [[1]]"]);
    expect(".o_telephony_storage_figures").toHaveText("30 / 200,000 min");
    expect(chart()).toBe(before);
    expect(datasets()[2].data).toEqual([200000, 200000, 200000]);
});

test("figures in the user's language, not the browser's", async () => {
    defineParams({ lang_parameters: { decimal_point: ",", thousands_sep: "." } });
    serveUsage("free", 1234.5);
    await mountPlanDetails();
    expect(".o_telephony_storage_figures").toHaveText("1.234,5 / 1.000 min");
    expect.verifySteps(["get_storage_usage [[1]]"]);
});

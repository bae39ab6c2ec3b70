import { defineMailModels } from "@mail/../tests/mail_test_helpers";
import { before, describe, expect, globals, test } from "@odoo/hoot";
import { queryAllTexts } from "@odoo/hoot-dom";
import { animationFrame } from "@odoo/hoot-mock";
import {
    contains,
    defineModels,
    getService,
    models,
    mountWebClient,
    onRpc,
} from "@web/../tests/web_test_helpers";

describe.current.tags("desktop");

// "Change storage plan": the purchase summary of `telephony.storage.plan.change`, in the form the
// add-on installs (its arch is read from the server this suite runs on, not copied here). The
// server's side (the summary's figures and the refusal's words, `get_storage_plan_summary`) is
// tested in Python; here: what the dialog shows of them, and what it lets the user do.

const MODEL = "telephony.storage.plan.change";
let formArch;

before(async () => {
    // The real fetch, before the mock server replaces it: the form view of the add-on.
    const { fetch } = globals;
    const response = await fetch(`/web/dataset/call_kw/${MODEL}/get_views`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
            id: 1,
            jsonrpc: "2.0",
            method: "call",
            params: { model: MODEL, method: "get_views", args: [], kwargs: { views: [[false, "form"]], options: {} } },
        }),
    });
    const { result, error } = await response.json();
    if (error) {
        throw new Error(`Cannot read the form of ${MODEL}: ${error.data?.message || error.message}`);
    }
    formArch = result.views.form.arch;
});

// The fields as the server declares them (labels, selections, types).
class TelephonyAccount extends models.ServerModel {
    _name = "telephony.account";
    _records = [{ id: 1, storage_plan: "200k" }];
}

class TelephonyStoragePlanChange extends models.ServerModel {
    _name = MODEL;
}

defineMailModels(); // the add-on depends on mail, whose services start with the web client
defineModels([TelephonyAccount, TelephonyStoragePlanChange]);

const REFUSAL =
    "60000 minutes of recordings are stored, more than the 50000 minutes of this plan. " +
    "Delete recordings or keep a larger plan.";

/** What the server computes for each plan the user picks: 60,000 minutes stored, 100 credits. */
const SUMMARIES = {
    "50k": { limit_minutes: 50000, monthly_price: 25, due_now: 0, refusal: REFUSAL },
    "1m": { limit_minutes: 1000000, monthly_price: 75, due_now: 25, refusal: false },
};

function serveSummaries() {
    onRpc(MODEL, "onchange", ({ args }) => {
        const [, values, changed] = args;
        const plan = changed.length ? values.storage_plan : "50k"; // the server offers the next plan... here, down
        expect.step(`onchange ${plan}`);
        const value = { used_minutes: 60000, balance: 100, ...SUMMARIES[plan] };
        if (!changed.length) {
            Object.assign(value, { account_id: { id: 1, display_name: "YourCompany" }, current_plan: "200k", storage_plan: plan });
        }
        return { value };
    });
    onRpc(MODEL, "web_save", ({ args }) => {
        expect.step(`web_save ${args[1].storage_plan}`);
    });
    onRpc(MODEL, "action_confirm", () => {
        expect.step("action_confirm");
        return false;
    });
}

async function openPlanChange() {
    TelephonyStoragePlanChange._views = { form: formArch };
    await mountWebClient();
    await getService("action").doAction({
        type: "ir.actions.act_window",
        res_model: MODEL,
        views: [[false, "form"]],
        target: "new",
        context: { active_model: "telephony.account", active_id: 1 },
    });
}

function summary() {
    return Object.fromEntries(
        ["current_plan", "limit_minutes", "used_minutes", "monthly_price", "due_now", "balance"].map((name) => [
            name,
            queryAllTexts(`.modal .o_field_widget[name=${name}]`)[0],
        ])
    );
}

test("a plan smaller than the minutes stored: the reason, and no way to confirm", async () => {
    serveSummaries();
    await openPlanChange();
    expect.verifySteps(["onchange 50k"]);
    expect(summary()).toEqual({
        current_plan: "200,000 minutes",
        limit_minutes: "50,000",
        used_minutes: "60,000.00", // (the mock's floats have 2 digits: fields_get does not give digits)
        monthly_price: "25.00",
        due_now: "0.00",
        balance: "100.00",
    });
    expect(".modal .o_telephony_storage_refusal").toHaveText(REFUSAL);
    expect(".modal button[name=action_confirm]").toHaveCount(0);
    expect(".modal").not.toHaveText(/The plan is charged now/);
    // (The dialog's own "Ok" stays hidden by a class: a form's footer replaces it.)
    expect(queryAllTexts(".modal .modal-footer button:not(.d-none)")).toEqual(["Cancel"]);
});

test("a plan that fits: the summary, what is charged, and Confirm", async () => {
    serveSummaries();
    await openPlanChange();
    await contains(".modal .o_field_widget[name=storage_plan] .o_radio_item:contains('1,000,000') input").click();
    await animationFrame();
    expect.verifySteps(["onchange 50k", "onchange 1m"]);
    expect(summary()).toEqual({
        current_plan: "200,000 minutes",
        limit_minutes: "1,000,000",
        used_minutes: "60,000.00",
        monthly_price: "75.00",
        due_now: "25.00",
        balance: "100.00",
    });
    expect(".modal .o_telephony_storage_refusal").toHaveCount(0);
    expect(".modal").toHaveText(/The plan is charged now .* then monthly from the credits\. 1,000 minutes are free\./);
    await contains(".modal button[name=action_confirm]").click();
    expect.verifySteps(["web_save 1m", "action_confirm"]);
});

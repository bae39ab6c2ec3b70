import { beforeEach, describe, expect, test } from "@odoo/hoot";
import { queryAll, queryAllTexts, queryFirst, queryOne } from "@odoo/hoot-dom";
import { Deferred, animationFrame, mockTimeZone } from "@odoo/hoot-mock";
import {
    contains,
    defineModels,
    fields,
    makeMockServer,
    models,
    mockService,
    mountView,
    onRpc,
    patchWithCleanup,
} from "@web/../tests/web_test_helpers";

import { defineMailModels } from "@mail/../tests/mail_test_helpers";
import { errorReason } from "@builtin_telephony/components/call_history/call_history";
import { presetOptions } from "@builtin_telephony/../tests/helpers/periods";

describe.current.tags("desktop");

// -- The server's side: the models the tab reads, and `get_call_history`'s answers -------------

class TelephonyAccount extends models.Model {
    _name = "telephony.account";
    name = fields.Char();
    _records = [{ id: 1, name: "YourCompany" }];
}

class TelephonyUser extends models.Model {
    _name = "telephony.user";
    user_id = fields.Many2one({ relation: "res.users" });
}

class TelephonyCall extends models.Model {
    _name = "telephony.call";
}

defineMailModels(); // the add-on depends on mail, whose services start with the web client
defineModels([TelephonyAccount, TelephonyUser, TelephonyCall]);

/** The ids of the users of the telephony users (created by `mountTab`). */
const users = {};

const EXPORT_ROUTE = "/telephony/calls/export.csv";

function call(id, values = {}) {
    return {
        id,
        start_date: "2026-11-30 09:15:00",
        call_type: "incoming",
        call_type_label: "Incoming",
        user: "Zoe Zimmer",
        from_number: "+14155550100",
        from_number_display: "+1 415-555-0100",
        to_number: "+14155550199",
        to_number_display: "+1 415-555-0199",
        duration: 95,
        recording_duration: 0,
        credits: 0.045,
        status: "completed",
        status_label: "Completed",
        recording_id: false,
        ...values,
    };
}

/** `get_call_history`'s answer: one page of calls, the period's days and the CSV's URL. */
function history({ length, records = [call(1)], date_from = false, date_to = false, export_url = EXPORT_ROUTE } = {}) {
    return { length: length ?? records.length, records, date_from, date_to, export_url };
}

/** What the tab asked `get_call_history` (its filters), as a step. */
const FILTERS = ["call_type", "user_id", "period", "date_from", "date_to", "offset", "limit"];
function asked(kwargs) {
    return `get_call_history ${JSON.stringify(Object.fromEntries(FILTERS.map((key) => [key, kwargs[key]])))}`;
}
function filters(values = {}) {
    const all = { call_type: false, user_id: false, period: false, date_from: false, date_to: false, offset: 0, limit: 50 };
    return asked({ ...all, ...values });
}

/** Answers `get_call_history` with `answer(kwargs)` and records each call's filters. */
function serveHistory(answer = () => history()) {
    onRpc("telephony.call", "get_call_history", ({ kwargs }) => {
        expect.step(asked(kwargs));
        return answer(kwargs);
    });
}

async function mountTab() {
    const { env } = await makeMockServer();
    const user = (name, login) =>
        env["res.users"].create({ login, partner_id: env["res.partner"].create({ name }) });
    const zoe = user("Zoe Zimmer", "zoe");
    const ana = user("Ana Admin", "ana");
    Object.assign(users, { zoe, ana });
    // Zoe is a telephony user of two companies; a telephony user without a user is nobody.
    env["telephony.user"].create([{ user_id: zoe }, { user_id: ana }, { user_id: zoe }, { user_id: false }]);
    await mountView({
        type: "form",
        resModel: "telephony.account",
        resId: 1,
        arch: `<form><sheet><widget name="telephony_call_history"/></sheet></form>`,
    });
}

beforeEach(() => {
    mockService("notification", {
        add(message, { type }) {
            expect.step(`${type}: ${message}`);
        },
    });
});

// -- The list and its filters ------------------------------------------------------------------

test("lists the calls, with the owners of the telephony users to filter on", async () => {
    serveHistory(() =>
        history({
            records: [
                call(1, { recording_id: 7, recording_duration: 94, credits: 1.5 }),
                call(2, { call_type: "missed", call_type_label: "Missed", user: "", duration: 0, credits: 0, status: "missed", status_label: "Missed" }),
            ],
        })
    );
    await mountTab();
    expect.verifySteps([filters()]);
    // Each person once, by name; a telephony user without a user is nobody to filter on.
    expect(queryAllTexts("select.o_telephony_history_owner option")).toEqual(["All call owners", "Ana Admin", "Zoe Zimmer"]);
    expect(queryAll("select.o_telephony_history_owner option").map((option) => option.value)).toEqual(["", String(users.ana), String(users.zoe)]);
    expect(queryAllTexts("select.o_telephony_history_type option")).toEqual(["All calls", "Incoming", "Outgoing", "Missed"]);
    expect(".o_telephony_history_row").toHaveCount(2);
    const [recorded, missed] = queryAll(".o_telephony_history_row");
    expect(queryAllTexts("td", { root: recorded }).slice(1)).toEqual([
        "Incoming", "Zoe Zimmer", "+1 415-555-0100", "+1 415-555-0199", "95", "94", "1.5000", "Completed", "",
    ]);
    expect(missed).toHaveAttribute("data-call-type", "missed");
    expect(queryAllTexts("td", { root: missed }).slice(1, 3)).toEqual(["Missed", ""]);
    // Only a call with a stored recording has a play button.
    expect(queryAll(".o_telephony_history_play", { root: recorded })).toHaveLength(1);
    expect(queryAll(".o_telephony_history_play", { root: missed })).toHaveLength(0);
    expect(".o_telephony_history_pager").toHaveText("1-2 / 2");
    expect(".o_telephony_history_range").toHaveCount(0);
});

test("a call's date and time are the user's (the server sends UTC)", async () => {
    mockTimeZone(+1);
    serveHistory(() => history({ records: [call(1, { start_date: "2026-11-30 23:30:00" })] }));
    await mountTab();
    expect.verifySteps([filters()]);
    expect(".o_telephony_history_row td:first").toHaveText("12/01/2026 00:30:00");
});

test("an empty selection says so", async () => {
    serveHistory(() => history({ records: [] }));
    await mountTab();
    expect.verifySteps([filters()]);
    expect(".o_telephony_history_table tbody").toHaveText("No calls in this selection.");
    expect(".o_telephony_history_pager").toHaveText("0");
});

test("filters by call type and owner, together, and back to every call", async () => {
    serveHistory();
    await mountTab();
    await contains("select.o_telephony_history_type").select("missed");
    await contains("select.o_telephony_history_owner").select(String(users.ana));
    await contains("select.o_telephony_history_type").select("");
    await contains("select.o_telephony_history_owner").select("");
    expect.verifySteps([
        filters(),
        filters({ call_type: "missed" }),
        // The owner is sent as the id of the user (a number), the call type is kept.
        filters({ call_type: "missed", user_id: users.ana }),
        filters({ user_id: users.ana }),
        filters(),
    ]);
});

test("the period presets are the credit analytics', and the server's days are shown", async () => {
    serveHistory(({ period }) =>
        period === "last_quarter"
            ? history({ date_from: "2026-07-01", date_to: "2026-09-30" })
            : history({ date_from: "2026-11-30", date_to: "2026-12-06" })
    );
    await mountTab();
    expect(queryAll("select.o_telephony_history_period option").map((option) => [option.value, option.textContent])).toEqual([
        ["", "Any time"],
        ...presetOptions(),
    ]);
    await contains("select.o_telephony_history_period").select("last_quarter");
    // The server turns the preset into days of the user's time zone; the tab shows them as the
    // user's language writes dates.
    expect(".o_telephony_history_range").toHaveText("07/01/2026 – 09/30/2026");
    await contains("select.o_telephony_history_period").select("this_week");
    expect(".o_telephony_history_range").toHaveText("11/30/2026 – 12/06/2026");
    expect.verifySteps([filters(), filters({ period: "last_quarter" }), filters({ period: "this_week" })]);
    // The date inputs are those of a custom range only.
    expect("input.o_telephony_history_from").toHaveCount(0);
});

/** Picks a day in a date input (Hoot's `edit` cannot read an empty date input). */
async function setDate(selector, value) {
    const input = queryOne(selector);
    input.value = value;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    await animationFrame();
}

test("a custom range is asked for once both its dates are chosen", async () => {
    serveHistory(({ date_from, date_to }) => history({ date_from, date_to }));
    await mountTab();
    expect.verifySteps([filters()]);
    await contains("select.o_telephony_history_period").select("custom");
    expect(".alert-warning").toHaveText("Choose both dates of the custom range.");
    expect(".o_telephony_history_range").toHaveCount(0);
    await setDate("input.o_telephony_history_from", "2026-02-01");
    expect(".alert-warning").toHaveText("Choose both dates of the custom range.");
    expect.verifySteps([]);
    await setDate("input.o_telephony_history_to", "2026-02-28");
    expect.verifySteps([filters({ period: "custom", date_from: "2026-02-01", date_to: "2026-02-28" })]);
    expect(".alert-warning").toHaveCount(0);
    expect(".o_telephony_history_range").toHaveText("02/01/2026 – 02/28/2026");
    // Picked the other way round: the same range (the server would refuse a reversed one).
    await setDate("input.o_telephony_history_from", "2026-03-31");
    expect.verifySteps([filters({ period: "custom", date_from: "2026-02-28", date_to: "2026-03-31" })]);
    expect(".alert-warning").toHaveCount(0);
    await setDate("input.o_telephony_history_from", "2026-02-01");
    expect.verifySteps([filters({ period: "custom", date_from: "2026-02-01", date_to: "2026-02-28" })]);
    // A preset wins over the dates (the server ignores them then); they are kept for the next
    // custom range.
    await contains("select.o_telephony_history_period").select("this_month");
    await contains("select.o_telephony_history_period").select("custom");
    expect(queryOne("input.o_telephony_history_from").value).toBe("2026-02-01");
    expect.verifySteps([
        filters({ period: "this_month", date_from: "2026-02-01", date_to: "2026-02-28" }),
        filters({ period: "custom", date_from: "2026-02-01", date_to: "2026-02-28" }),
    ]);
});

test("pages of 50 calls; a new filter starts from the first page", async () => {
    serveHistory(({ offset }) => history({ length: 120, records: [call(offset + 1)] }));
    await mountTab();
    const [previous, next] = queryAll(".o_telephony_history_pager ~ button");
    expect(".o_telephony_history_pager").toHaveText("1-50 / 120");
    expect(previous).toHaveAttribute("disabled");
    await contains(next).click();
    expect(".o_telephony_history_pager").toHaveText("51-100 / 120");
    await contains(next).click();
    expect(".o_telephony_history_pager").toHaveText("101-120 / 120");
    expect(next).toHaveAttribute("disabled");
    await contains(previous).click();
    expect(".o_telephony_history_pager").toHaveText("51-100 / 120");
    await contains("select.o_telephony_history_type").select("outgoing");
    expect(".o_telephony_history_pager").toHaveText("1-50 / 120");
    expect.verifySteps([
        filters(),
        filters({ offset: 50 }),
        filters({ offset: 100 }),
        filters({ offset: 50 }),
        filters({ call_type: "outgoing" }),
    ]);
});

test("answers that cross: only the answer to the last filters is shown", async () => {
    const slow = new Deferred();
    serveHistory(async ({ call_type }) => {
        if (call_type === "missed") {
            await slow;
        }
        const type = call_type || "incoming";
        return history({ records: [call(1, { call_type: type, call_type_label: type })] });
    });
    await mountTab();
    await contains("select.o_telephony_history_type").select("missed");
    await contains("select.o_telephony_history_type").select("outgoing");
    expect(".o_telephony_history_row").toHaveAttribute("data-call-type", "outgoing");
    // The missed calls' answer comes last: it is out of date.
    slow.resolve();
    await animationFrame();
    expect(".o_telephony_history_row").toHaveAttribute("data-call-type", "outgoing");
    expect("select.o_telephony_history_type").toHaveValue("outgoing");
    expect.verifySteps([filters(), filters({ call_type: "missed" }), filters({ call_type: "outgoing" })]);
});

// -- Playing a recording -----------------------------------------------------------------------

test("the play button plays the call's recording through the access-checked route", async () => {
    serveHistory(() => history({ records: [call(1, { recording_id: 7 }), call(2, { recording_id: 8 })] }));
    await mountTab();
    expect(".o_telephony_history_player").toHaveCount(0);
    const [first, second] = queryAll(".o_telephony_history_play");
    await contains(first).click();
    expect(".o_telephony_history_player audio").toHaveAttribute("src", "/telephony/recording/7");
    expect(queryOne("i", { root: first })).toHaveClass("fa-stop-circle");
    // One recording at a time: playing another one stops the first.
    await contains(second).click();
    expect(".o_telephony_history_player").toHaveCount(1);
    expect(".o_telephony_history_player audio").toHaveAttribute("src", "/telephony/recording/8");
    expect(queryOne("i", { root: first })).toHaveClass("fa-play-circle");
    // The player sits under its call's row.
    expect(queryFirst(".o_telephony_history_player").previousElementSibling).toBe(second.closest("tr"));
    // Its button stops it.
    await contains(second).click();
    expect(".o_telephony_history_player").toHaveCount(0);
    // A new filter stops what plays.
    await contains(first).click();
    expect(".o_telephony_history_player").toHaveCount(1);
    await contains("select.o_telephony_history_type").select("incoming");
    expect(".o_telephony_history_player").toHaveCount(0);
    expect.verifySteps([filters(), filters({ call_type: "incoming" })]);
});

// -- The CSV download --------------------------------------------------------------------------

/** Catches the file handed to the browser: its name and content. */
function catchDownloads() {
    const files = [];
    patchWithCleanup(URL, {
        createObjectURL(blob) {
            files.push({ blob });
            return `blob:test-${files.length}`;
        },
        revokeObjectURL() {},
    });
    patchWithCleanup(HTMLAnchorElement.prototype, {
        click() {
            files.at(-1).name = this.download;
            files.at(-1).inPage = this.isConnected;
            expect.step(`file ${this.download}`);
        },
    });
    return files;
}

const CSV = "Date and time,Call type\n2026-11-30 10:15:00,Missed\n";

function csvResponse() {
    return new Response(CSV, {
        headers: {
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": "attachment; filename*=UTF-8''calls-2026-11-30.csv",
        },
    });
}

test("the download fetches the CSV of the filters shown, and the page shows it runs", async () => {
    serveHistory(({ call_type }) =>
        history({ export_url: call_type ? `${EXPORT_ROUTE}?call_type=${call_type}&user_id=${users.ana}` : EXPORT_ROUTE })
    );
    const answer = new Deferred();
    onRpc(
        EXPORT_ROUTE,
        async (request) => {
            const url = new URL(request.url);
            expect.step(`GET ${url.pathname}${url.search}`);
            return answer;
        },
        { pure: true }
    );
    const files = catchDownloads();
    await mountTab();
    await contains("select.o_telephony_history_type").select("missed");
    const button = ".o_telephony_history_download";
    expect(button).toHaveText("Download CSV");
    await contains(button).click();
    expect.verifySteps([filters(), filters({ call_type: "missed" }), `GET ${EXPORT_ROUTE}?call_type=missed&user_id=${users.ana}`]);
    // While the server streams the file: the button says so and cannot start a second download.
    expect(button).toHaveText("Downloading…");
    expect(button).toHaveAttribute("disabled");
    answer.resolve(csvResponse());
    await animationFrame();
    expect.verifySteps(["file calls-2026-11-30.csv", "success: The call history was downloaded."]);
    expect(files).toHaveLength(1);
    expect(files[0].inPage).toBe(true);
    expect(await files[0].blob.text()).toBe(CSV);
    expect(button).toHaveText("Download CSV");
    expect(button).not.toHaveAttribute("disabled");
    expect("a[download]").toHaveCount(0); // the link is gone
});

test("a refused download shows the server's reason", async () => {
    serveHistory();
    // What the route answers a wrong parameter: werkzeug's 400 page, the reason HTML-escaped.
    const page =
        "<!doctype html>\n<html lang=en>\n<title>400 Bad Request</title>\n<h1>Bad Request</h1>\n" +
        "<p>date_from must be a date as YYYY-MM-DD, not &#39;2026-13-01&#39;.</p>\n";
    onRpc(EXPORT_ROUTE, () => new Response(page, { status: 400, headers: { "Content-Type": "text/html; charset=utf-8" } }), { pure: true });
    catchDownloads();
    await mountTab();
    await contains(".o_telephony_history_download").click();
    expect.verifySteps([filters(), "danger: date_from must be a date as YYYY-MM-DD, not '2026-13-01'."]);
    expect(".o_telephony_history_download").not.toHaveAttribute("disabled");
});

test("a download that fails otherwise says so, without the server's page", async () => {
    serveHistory();
    let answer;
    onRpc(EXPORT_ROUTE, () => answer(), { pure: true });
    catchDownloads();
    await mountTab();
    // The server cannot be reached.
    answer = () => {
        throw new TypeError("Failed to fetch");
    };
    await contains(".o_telephony_history_download").click();
    // An expired session: the route redirects to the login page, which is no CSV.
    answer = () => new Response("<html><body><p>Log in</p></body></html>", { headers: { "Content-Type": "text/html" } });
    await contains(".o_telephony_history_download").click();
    // A proxy's error page.
    answer = () => new Response("<p>Bad gateway</p>", { status: 502, headers: { "Content-Type": "text/html" } });
    await contains(".o_telephony_history_download").click();
    expect.verifySteps([
        filters(),
        "danger: The download failed. Try again.",
        "danger: The download failed. Try again.",
        "danger: The download failed. Try again.",
    ]);
});

test("errorReason: the text of werkzeug's message, or of the whole body", () => {
    expect(errorReason("<title>400 Bad Request</title><h1>Bad Request</h1><p>user_id must be\n a positive &amp; whole number.</p>")).toBe(
        "user_id must be a positive & whole number."
    );
    expect(errorReason("Unknown parameter(s): foo.")).toBe("Unknown parameter(s): foo.");
    expect(errorReason("")).toBe("");
});

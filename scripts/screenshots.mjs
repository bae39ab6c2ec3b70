// Screenshots of the Built-in Telephony page for the README, taken in headless Chromium from
// the demo database served by `make demo` (http://127.0.0.1:$HTTP_PORT, admin / admin).
// Usage: make screenshots
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const base = `http://127.0.0.1:${process.env.HTTP_PORT || 8069}`;
const out = new URL("../docs/screenshots/", import.meta.url).pathname;
// Tab label on the page → file name.
const tabs = {
    "Plan details": "plan_details",
    "Phone numbers": "phone_numbers",
    "Call flows": "call_flows",
    "Telephony users": "telephony_users",
    "Telephony groups": "telephony_groups",
    "Call history": "call_history",
};

mkdirSync(out, { recursive: true });
const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--no-first-run", "--disable-quic"],
});
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
await page.goto(`${base}/web/login`);
await page.fill("input[name=login]", "admin");
await page.fill("input[name=password]", "admin");
await Promise.all([page.waitForURL(/\/odoo/), page.click("button[type=submit]")]);
// Through the menus, as a user gets there (the navbar then shows the app's menus).
await page.click(".o_navbar_apps_menu button");
await page.click(".o_app[data-menu-xmlid='builtin_telephony.menu_telephony_root']");
await page.click(".o_main_navbar [data-menu-xmlid='builtin_telephony.menu_telephony_account']");
await page.waitForSelector(".o_form_view .o_notebook");
for (const [label, name] of Object.entries(tabs)) {
    const tab = page.locator(".o_notebook .nav-link", { hasText: label });
    if (!(await tab.count())) {
        continue;
    }
    await tab.first().click();
    await page.waitForTimeout(800);  // charts and lists finish rendering
    await page.screenshot({ path: `${out}${name}.png`, fullPage: false });
    console.log(`docs/screenshots/${name}.png`);
}
// A published call flow: draft and published versions side by side.
await page.locator(".o_notebook .nav-link", { hasText: "Call flows" }).first().click();
await page.waitForSelector(".o_field_widget[name=flow_ids] .o_data_row", { timeout: 5000 }).catch(() => null);
// The demo's Sales line (every state type), whatever other flows a previous run added.
const salesLine = () => page.locator(".o_field_widget[name=flow_ids] .o_data_row", { hasText: "Sales line" }).first();
const flowRow = salesLine();
if (await flowRow.count()) {
    await flowRow.locator("td.o_data_cell").first().click();
    await page.waitForSelector(".modal .o_form_view, .o_form_view .o_field_widget[name=definition]");
    await page.waitForTimeout(800);
    await page.screenshot({ path: `${out}call_flow_form.png`, fullPage: false });
    console.log("docs/screenshots/call_flow_form.png");
    await page.keyboard.press("Escape");
    await page.waitForSelector(".modal", { state: "detached" });
}
// The call history and one call with the steps it took through the flow.
await page.click(".o_main_navbar [data-menu-xmlid='builtin_telephony.menu_telephony_calls']");
await page.waitForSelector(".o_breadcrumb .active:has-text('Calls')");
await page.waitForSelector(".o_list_view .o_data_row");
await page.waitForTimeout(500);
await page.screenshot({ path: `${out}calls.png`, fullPage: false });
console.log("docs/screenshots/calls.png");
await page.locator(".o_list_view .o_data_row td.o_data_cell").last().click();  // the first call of the day
await page.waitForSelector(".o_form_view");
await page.waitForTimeout(800);
await page.screenshot({ path: `${out}call_form.png`, fullPage: false });
console.log("docs/screenshots/call_form.png");
// The visual builder on the demo's flow (at 1280×800, the size it is designed for): a state's
// settings beside the canvas, then the simulator walking the flow with the path lit.
await page.setViewportSize({ width: 1280, height: 800 });
await page.click(".o_main_navbar [data-menu-xmlid='builtin_telephony.menu_telephony_account']");
await page.locator(".o_notebook .nav-link", { hasText: "Call flows" }).first().click();
await salesLine().locator("button.o_telephony_edit_flow").click();
await page.waitForSelector(".o_telephony_flow_builder .o_tfb_card[data-state-id]");
await page.waitForTimeout(500);
await page.locator(".o_tfb_card[data-state-id] .o_tfb_card_name").nth(2).click();
await page.waitForSelector(".o_tfb_panel");
await page.waitForTimeout(500);
await page.screenshot({ path: `${out}flow_builder.png`, fullPage: false });
console.log("docs/screenshots/flow_builder.png");
await page.click(".o_tfb_test");
// Within the working hours whatever the time the screenshots are taken (the menu comes next).
await page.selectOption(".o_tfb_sim_hours", "open");
await page.click(".o_tfb_sim_call");
await page.click(".o_tfb_sim_key[data-key='2']");
await page.click(".o_tfb_sim_choice[data-choice='no-answer']");
await page.waitForSelector(".o_tfb_sim_waiting .o_tfb_sim_choice[data-choice='message']");
await page.waitForTimeout(500);
await page.screenshot({ path: `${out}flow_simulator.png`, fullPage: false });
console.log("docs/screenshots/flow_simulator.png");
await page.click(".o_tfb_simulator .btn-close");
await page.setViewportSize({ width: 1440, height: 900 });
// Buying a number: the numbers offered, as a list to choose from.
await page.goto(`${base}/odoo/telephony`);
await page.waitForSelector(".o_form_view .o_notebook");
await page.locator(".o_notebook .nav-link", { hasText: "Phone numbers" }).first().click();
await page.locator("button", { hasText: "Buy a number" }).first().click();
await page.locator(".modal button", { hasText: "Search numbers" }).click();
await page.waitForSelector(".modal .o_field_widget[name=line_ids] .o_data_row");
await page.waitForTimeout(800);
await page.screenshot({ path: `${out}buy_number.png`, fullPage: false });
console.log("docs/screenshots/buy_number.png");
await page.keyboard.press("Escape");
// Settings › Telephony: what an administrator looks for there.
await page.goto(`${base}/odoo/settings#builtin_telephony`);
await page.waitForSelector("text=Who may use telephony");
await page.waitForTimeout(800);
await page.screenshot({ path: `${out}settings_telephony.png`, fullPage: false });
console.log("docs/screenshots/settings_telephony.png");
// The page in the source documents' languages, Spanish and Simplified Chinese: the language is
// installed when the database lacks it, the admin reads the page in it, then English again.
const rpc = (model, method, args, kwargs = {}) => page.evaluate(async (params) => {
    const response = await fetch("/web/dataset/call_kw", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", method: "call", params }),
    });
    const { result, error } = await response.json();
    if (error) {
        throw new Error(error.data?.message || error.message);
    }
    return result;
}, { model, method, args, kwargs });
const [admin] = await rpc("res.users", "search", [[["login", "=", "admin"]]]);
const openPage = async () => {
    await page.goto(`${base}/odoo`);
    await page.click(".o_navbar_apps_menu button");
    await page.click(".o_app[data-menu-xmlid='builtin_telephony.menu_telephony_root']");
    await page.click(".o_main_navbar [data-menu-xmlid='builtin_telephony.menu_telephony_account']");
    await page.waitForSelector(".o_form_view .o_notebook");
};
// The softphone (sandbox, simulated audio): a call ringing with the caller's lead, then click to
// call from that lead. The demo's admin is a telephony user of the Sales group, signed in.
const panel = ".o_telephony_softphone_panel";
const shoot = async (name) => {
    await page.screenshot({ path: `${out}${name}.png`, fullPage: false });
    console.log(`docs/screenshots/${name}.png`);
};
const endCall = async () => {
    await page.click(`${panel} .o_telephony_hangup`);
    await page.click(`${panel} .o_telephony_dismiss`);
};
// The Sales line may be closed at the time the screenshots are taken (business hours): the call
// comes on a line whose flow rings the admin at any hour, made here if the demo has none.
const [me] = await rpc("telephony.user", "search", [[["user_id", "=", admin]]]);
let [line] = await rpc("telephony.flow", "search", [[["name", "=", "Direct line"]]]);
if (!line) {
    const [number] = await rpc("telephony.number", "search", [[["flow_id", "=", false]]], { limit: 1 });
    line = await rpc("telephony.flow", "create", [{
        name: "Direct line", number_ids: number ? [[6, 0, [number]]] : [],
        definition: JSON.stringify({ start: "ring", states: { ring: {
            type: "transfer_user", name: "Admin", user_id: me, ring_timeout: 30,
            queue: { enabled: false }, next: {} } } }),
    }]);
    await rpc("telephony.flow", "action_publish", [[line]]);
}
const [direct] = await rpc("telephony.number", "search_read", [[["flow_id", "=", line]]],
                           { fields: ["display_name"], limit: 1 });
await openPage();
await page.click(".o_notebook .nav-link[name=phone_numbers]");
await page.locator(".o_field_widget[name=number_ids] .o_data_row", { hasText: direct.display_name })
    .locator(".o_telephony_simulate_call").click();
await page.fill(".modal .o_field_widget[name=from_number] input", "+12125550142");
await page.click(".modal .modal-footer button[name=action_call]");
await page.waitForSelector(`${panel} .o_telephony_accept`, { timeout: 20000 });
// Notices would hide the softphone; they may also close by themselves while we click.
for (let tries = 0; tries < 20 && (await page.locator(".o_notification_close").count()); tries++) {
    await page.locator(".o_notification_close").first().click({ timeout: 2000 }).catch(() => null);
}
await page.waitForTimeout(800);
await shoot("softphone_ringing");
await page.click(`${panel} .o_telephony_accept`);
await page.waitForSelector(`${panel} .o_telephony_hangup`);
await page.waitForTimeout(1500);
await endCall();
const [lead] = await rpc("crm.lead", "search", [[["phone_sanitized", "=", "+12125550142"]]], { limit: 1 });
await page.goto(`${base}/odoo/crm/${lead}`);
await page.click(".o_form_view .o_field_widget[name=phone] input");
await page.click(".o_form_view .o_telephony_call_button_field");
await page.waitForSelector(`${panel} .o_telephony_timer`, { timeout: 20000 });
await page.waitForTimeout(2500);  // the timer runs
await shoot("click_to_call");
await endCall();

try {
    for (const [code, suffix] of [["es_ES", "es"], ["zh_CN", "zh_CN"]]) {
        const [lang] = await rpc("res.lang", "search_read", [[["code", "=", code]]],
                                 { fields: ["active"], context: { active_test: false } });
        if (!lang.active) {
            const wizard = await rpc("base.language.install", "create", [{ lang_ids: [[6, 0, [lang.id]]] }]);
            await rpc("base.language.install", "lang_install", [[wizard]]);
        }
        await rpc("res.users", "write", [[admin], { lang: code }]);
        await openPage();
        for (const tab of ["plan_details", "call_flows"]) {
            await page.click(`.o_notebook .nav-link[name=${tab}]`);
            await page.waitForTimeout(800);
            await page.screenshot({ path: `${out}${tab}_${suffix}.png`, fullPage: false });
            console.log(`docs/screenshots/${tab}_${suffix}.png`);
        }
    }
} finally {
    await rpc("res.users", "write", [[admin], { lang: "en_US" }]);
}
await browser.close();

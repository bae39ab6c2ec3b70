// The browser half of bench_flow_builder.py: opens the builder on one flow in headless Chromium
// and prints the figures as one JSON line. Usage: node flow_builder_browser.mjs URL FLOW_ID RUNS
import { chromium } from "playwright-core";

const [base, flowIdText, runsText] = process.argv.slice(2);
const flowId = Number(flowIdText);
const runs = Number(runsText || 5);
const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
page.on("pageerror", (error) => console.error("pageerror:", error.message));
await page.goto(`${base}/web/login`);
await page.fill("input[name=login]", "admin");
await page.fill("input[name=password]", "admin");
await Promise.all([page.waitForURL(/\/odoo/, { timeout: 120000 }), page.click("button[type=submit]")]);
await page.waitForSelector(".o_main_navbar", { timeout: 120000 });

const figures = { open_ms: [], drag_p95_ms: [], publish_ms: [], publish_rpc_ms: [], frames: 0, cards: 0 };

for (let run = 0; run < runs; run++) {
    // Open: what the "Edit call flow" button asks the web client for, until every card is painted.
    figures.open_ms.push(await page.evaluate(async (flowId) => {
        const env = odoo.__WOWL_DEBUG__.root.env;
        await env.services.action.doAction("builtin_telephony.telephony_flow_action", { clearBreadcrumbs: true });
        await new Promise((resolve) => setTimeout(resolve, 300));
        const start = performance.now();
        env.services.action.doAction({
            type: "ir.actions.client",
            tag: "builtin_telephony.flow_builder",
            params: { flow_id: flowId },
        });
        while (document.querySelectorAll(".o_telephony_flow_builder .o_tfb_card").length < 51) {
            await new Promise((resolve) => requestAnimationFrame(resolve));
        }
        await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
        return performance.now() - start;
    }, flowId));
    figures.cards = await page.locator(".o_tfb_card").count();

    // Drag: one pointer move per frame for 120 frames; the time between frames.
    const drag = await page.evaluate(async () => {
        const header = document.querySelector(".o_tfb_card[data-state-id='dept_5'] .o_tfb_card_name");
        const rect = header.getBoundingClientRect();
        let [x, y] = [rect.left + 10, rect.top + 5];
        const init = (type) => ({ bubbles: true, cancelable: true, clientX: x, clientY: y, button: 0, pointerId: 1, isPrimary: true });
        header.dispatchEvent(new PointerEvent("pointerdown", init("pointerdown")));
        const stamps = [];
        for (let frame = 0; frame < 121; frame++) {
            stamps.push(await new Promise((resolve) => requestAnimationFrame(resolve)));
            x += 3;
            y += frame % 2 ? 1 : -1;
            header.dispatchEvent(new PointerEvent("pointermove", init("pointermove")));
        }
        header.dispatchEvent(new PointerEvent("pointerup", init("pointerup")));
        const frames = stamps.slice(1).map((stamp, index) => stamp - stamps[index]).sort((a, b) => a - b);
        return { p95: frames[Math.ceil(frames.length * 0.95) - 1], count: frames.length };
    });
    figures.drag_p95_ms.push(drag.p95);
    figures.frames = drag.count;

    // Publish: the click, until the new version is shown (save, publish, reload: three RPCs).
    figures.publish_ms.push(await page.evaluate(async () => {
        const badge = () => document.querySelector(".o_tfb_tabs [data-tab='published'] .badge")?.textContent || "";
        const before = badge();
        const start = performance.now();
        document.querySelector(".o_tfb_publish").click();
        while (badge() === before) {
            await new Promise((resolve) => requestAnimationFrame(resolve));
        }
        return performance.now() - start;
    }));
    figures.publish_rpc_ms.push(await page.evaluate(async (flowId) => {
        const orm = odoo.__WOWL_DEBUG__.root.env.services.orm;
        const start = performance.now();
        await orm.call("telephony.flow", "action_publish", [[flowId]]);
        return performance.now() - start;
    }, flowId));
}
await browser.close();
console.log(JSON.stringify(figures));

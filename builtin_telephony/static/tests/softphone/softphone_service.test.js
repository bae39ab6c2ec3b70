import { beforeEach, describe, expect, test } from "@odoo/hoot";
import { advanceTime, animationFrame } from "@odoo/hoot-mock";
import { EventBus } from "@odoo/owl";
import { patchTranslations, patchWithCleanup } from "@web/../tests/web_test_helpers";
import { assets } from "@web/core/assets";
import {
    deviceFactories,
    Softphone,
    TOKEN_RENEW_MARGIN,
} from "@builtin_telephony/softphone/softphone_service";
import { makeTwilioDevice, TWILIO_SDK_URL } from "@builtin_telephony/softphone/twilio_device";
import { SandboxDevice } from "@builtin_telephony/softphone/sandbox_device";

describe.current.tags("headless");

// -- Fakes: Twilio's Device and Call, the multi_tab service, the server -----------------------

class FakeEmitter {
    constructor() {
        this.handlers = {};
    }
    on(event, handler) {
        (this.handlers[event] ||= []).push(handler);
    }
    emit(event, ...args) {
        for (const handler of this.handlers[event] || []) {
            handler(...args);
        }
    }
}

class FakeCall extends FakeEmitter {
    constructor(parameters = {}, customParameters = {}) {
        super();
        this.parameters = parameters;
        this.customParameters = new Map(Object.entries(customParameters));
    }
    accept() {
        expect.step("call.accept");
    }
    reject() {
        expect.step("call.reject");
    }
    disconnect() {
        expect.step("call.disconnect");
        this.emit("disconnect", this);
    }
    mute(muted) {
        expect.step(`call.mute ${muted}`);
    }
    sendDigits(digits) {
        expect.step(`call.sendDigits ${digits}`);
    }
}

class FakeDevice extends FakeEmitter {
    constructor(token) {
        super();
        this.token = token;
        this.calls = [];
        FakeDevice.instances.push(this);
    }
    async register() {
        expect.step(`device.register ${this.token}`);
        this.emit("registered");
    }
    updateToken(token) {
        expect.step(`device.updateToken ${token}`);
        this.token = token;
    }
    destroy() {
        expect.step("device.destroy");
        this.destroyed = true;
    }
    async connect({ params }) {
        expect.step(`device.connect ${JSON.stringify(params)}`);
        const call = new FakeCall({ To: params.To });
        this.calls.push(call);
        return call;
    }
}
FakeDevice.instances = [];
beforeEach(() => {
    FakeDevice.instances = [];
    patchTranslations();
});

/** Tabs of one browser: what one tab shares, the others receive (as localStorage events). */
function makeTabs() {
    const storage = {};
    const tabs = [];
    const addTab = (main) => {
        const tab = {
            main,
            bus: new EventBus(),
            currentTabId: `tab${tabs.length}`,
            isOnMainTab: () => tab.main,
            getSharedValue: (key, fallback) => (key in storage ? JSON.parse(storage[key]) : fallback),
            setSharedValue(key, value) {
                storage[key] = JSON.stringify(value);
                for (const other of tabs) {
                    if (other !== tab) {
                        other.bus.trigger("shared_value_updated", { key, newValue: storage[key] });
                    }
                }
            },
        };
        tabs.push(tab);
        return tab;
    };
    return { addTab, tabs };
}

function makeServer({ available = false, tokenError = false } = {}) {
    let tokens = 0;
    const server = {
        available,
        async rpc(route, params) {
            if (route === "/telephony/softphone/token") {
                expect.step("rpc token");
                if (tokenError) {
                    throw Object.assign(new Error("denied"), { data: { message: tokenError } });
                }
                tokens++;
                return {
                    token: `jwt${tokens}`,
                    identity: "user_2_1",
                    expires_at: Math.floor(Date.now() / 1000) + 3600,
                    provider: "twilio",
                };
            }
            if (route === "/telephony/softphone/availability") {
                expect.step(`rpc availability ${params.available}`);
                server.available = params.available;
                return { available: params.available };
            }
            if (route === "/telephony/softphone/note") {
                expect.step(`rpc note ${JSON.stringify(params)}`);
                return 17;
            }
            if (route === "/telephony/softphone/state") {
                return {
                    identity: "user_2_1",
                    provider: "twilio",
                    available: server.available,
                    allow_outbound: true,
                    caller_ids: ["+12025550100", "+12025550101"],
                    recent_calls: [],
                };
            }
            throw new Error(`unexpected route ${route}`);
        },
    };
    return server;
}

async function makeSoftphone({ server = makeServer(), tab = makeTabs().addTab(true) } = {}) {
    patchWithCleanup(deviceFactories, {
        twilio: async (token) => new FakeDevice(token),
    });
    const softphone = new Softphone({ multiTab: tab, rpc: server.rpc });
    await softphone.load();
    return softphone;
}

function lastDevice() {
    return FakeDevice.instances.at(-1);
}

// -- Tests ------------------------------------------------------------------------------------

test("signing in fetches a token, registers the Device and marks the user available", async () => {
    const softphone = await makeSoftphone();
    expect(softphone.state.status).toBe("offline");
    expect(softphone.device).toBe(null);
    await softphone.signIn();
    expect.verifySteps(["rpc availability true", "rpc token", "device.register jwt1"]);
    expect(softphone.state.available).toBe(true);
    expect(softphone.state.status).toBe("idle");
    expect(softphone.state.callerId).toBe("+12025550100");

    await softphone.signOut();
    expect.verifySteps(["device.destroy", "rpc availability false"]);
    expect(softphone.state.status).toBe("offline");
});

test("a refused token leaves no Device and says why", async () => {
    const server = makeServer({ tokenError: "You are not a telephony user of YourCompany." });
    const softphone = await makeSoftphone({ server });
    await softphone.signIn();
    expect.verifySteps(["rpc availability true", "rpc token"]);
    expect(softphone.device).toBe(null);
    expect(softphone.state.status).toBe("offline");
    expect(softphone.state.error).toBe("You are not a telephony user of YourCompany.");
});

test("an incoming call rings with the caller and lead of its <Parameter>s, then is accepted and ended", async () => {
    const softphone = await makeSoftphone({ server: makeServer({ available: true }) });
    expect.verifySteps(["rpc token", "device.register jwt1"]);
    const call = new FakeCall(
        { From: "+12025550143", CallSid: "CA1" },
        { call_id: "17", caller_name: "Azure Interior", caller_number: "+1 202-555-0143", partner_id: "8", lead_id: "42" }
    );
    lastDevice().emit("incoming", call);
    expect(softphone.state.status).toBe("ringing");
    expect(softphone.state.open).toBe(true);
    expect(softphone.state.call).toEqual({
        direction: "inbound",
        number: "+12025550143",
        numberDisplay: "+1 202-555-0143",
        name: "Azure Interior",
        callId: 17,
        sid: "CA1",
        partnerId: 8,
        leadId: 42,
        muted: false,
        startedAt: false,
    });

    await softphone.accept();
    expect.verifySteps(["call.accept"]);
    call.emit("accept", call);
    expect(softphone.state.status).toBe("connected");
    expect(softphone.state.call.startedAt).toBeGreaterThan(0);

    softphone.toggleMute();
    softphone.sendDigits("5");
    expect.verifySteps(["call.mute true", "call.sendDigits 5"]);
    expect(softphone.state.call.muted).toBe(true);

    softphone.hangUp();
    expect.verifySteps(["call.disconnect"]);
    expect(softphone.state.status).toBe("ended");
    expect(softphone.state.call.outcome).toBe("completed");
    // A note on the call, after it ended.
    expect(await softphone.saveNote("Wants a quote")).toBe(true);
    expect.verifySteps(['rpc note {"body":"Wants a quote","call_id":17,"call_sid":"CA1"}']);
    softphone.dismiss();
    expect(softphone.state.status).toBe("idle");
    expect(softphone.state.call).toBe(null);
});

test("an incoming call can be declined", async () => {
    const softphone = await makeSoftphone({ server: makeServer({ available: true }) });
    expect.verifySteps(["rpc token", "device.register jwt1"]);
    const call = new FakeCall({ From: "+12025550143" }, { caller_name: "", lead_id: "0" });
    lastDevice().emit("incoming", call);
    expect(softphone.state.call.name).toBe(false);
    expect(softphone.state.call.leadId).toBe(false);
    // A server that sends no formatted number: the E.164 one is shown.
    expect(softphone.state.call.numberDisplay).toBe("+12025550143");
    softphone.reject();
    expect.verifySteps(["call.reject"]);
    expect(softphone.state.status).toBe("ended");
    expect(softphone.state.call.outcome).toBe("rejected");
});

test("a caller hanging up while it rings (cancel) leaves a missed call", async () => {
    const softphone = await makeSoftphone({ server: makeServer({ available: true }) });
    const call = new FakeCall({ From: "+12025550143" }, { caller_name: "Deco Addict" });
    lastDevice().emit("incoming", call);
    call.emit("cancel", call);
    expect(softphone.state.status).toBe("ended");
    expect(softphone.state.call.outcome).toBe("missed");
    expect(softphone.state.error).toBe("The caller hung up.");
    // A second call while one is on the line is declined, not mixed up with it.
    softphone.dismiss();
    const first = new FakeCall({ From: "+1" });
    const second = new FakeCall({ From: "+2" });
    lastDevice().emit("incoming", first);
    lastDevice().emit("incoming", second);
    expect.verifySteps(["rpc token", "device.register jwt1", "call.reject"]);
    expect(softphone.state.call.number).toBe("+1");
});

test("click to call passes the number, caller ID and record to the TwiML App; a refusal says why", async () => {
    const softphone = await makeSoftphone({ server: makeServer({ available: true }) });
    expect.verifySteps(["rpc token", "device.register jwt1"]);
    softphone.state.callerId = "+12025550101";
    await softphone.dial("+32470123456", { resModel: "crm.lead", resId: 42, name: "Big deal" });
    expect.verifySteps([
        'device.connect {"To":"+32470123456","CallerId":"+12025550101","ResModel":"crm.lead","ResId":"42"}',
    ]);
    expect(softphone.state.status).toBe("dialing");
    expect(softphone.state.call.leadId).toBe(42);
    expect(softphone.state.call.name).toBe("Big deal");
    const call = lastDevice().calls[0];
    call.emit("error", { code: 31486, message: "Busy Here" });
    expect(softphone.state.status).toBe("ended");
    expect(softphone.state.error).toBe("The line is busy. Try again later.");

    // The microphone refused: a sentence a user understands, and what to do.
    softphone.dismiss();
    await softphone.dial("+32470123456");
    lastDevice().calls[1].emit("error", { code: 31208, message: "Permission denied" });
    expect(softphone.state.error).toInclude("Allow the microphone for this site");

    // One call at a time.
    softphone.dismiss();
    await softphone.dial("+32470123456");
    lastDevice().calls[2].emit("accept");
    await softphone.dial("+32470999999");
    expect(softphone.state.error).toBe("Hang up the current call before placing another one.");
    expect.verifySteps([
        'device.connect {"To":"+32470123456","CallerId":"+12025550101"}',
        'device.connect {"To":"+32470123456","CallerId":"+12025550101"}',
    ]);
});

test("the token is renewed before it expires: on tokenWillExpire and by our own timer", async () => {
    const softphone = await makeSoftphone({ server: makeServer({ available: true }) });
    expect.verifySteps(["rpc token", "device.register jwt1"]);
    lastDevice().emit("tokenWillExpire");
    await animationFrame();
    expect.verifySteps(["rpc token", "device.updateToken jwt2"]);
    // The SDK warns only once per registration: the next token is renewed by our timer.
    await advanceTime((3600 - TOKEN_RENEW_MARGIN - 10) * 1000);
    expect.verifySteps([]);
    await advanceTime(20 * 1000);
    await animationFrame();
    expect.verifySteps(["rpc token", "device.updateToken jwt3"]);
    softphone._destroyDevice();
    expect.verifySteps(["device.destroy"]);
    await advanceTime(3600 * 1000);
    expect.verifySteps([]);
});

test("several tabs: only the main tab registers the Device; the others show its state and act through it", async () => {
    const server = makeServer({ available: true });
    const { addTab } = makeTabs();
    const mainTab = addTab(true);
    const otherTab = addTab(false);
    const main = await makeSoftphone({ server, tab: mainTab });
    const other = await makeSoftphone({ server, tab: otherTab });
    expect.verifySteps(["rpc token", "device.register jwt1"]);
    expect(FakeDevice.instances.filter((d) => !d.destroyed)).toHaveLength(1);
    expect(other.device).toBe(null);
    expect(other.state.status).toBe("idle");

    // A call rings the main tab's Device: every tab shows it.
    const call = new FakeCall({ From: "+12025550143" }, { caller_name: "Azure Interior", lead_id: "42" });
    main.device.emit("incoming", call);
    await animationFrame();
    expect(other.state.status).toBe("ringing");
    expect(other.state.call.name).toBe("Azure Interior");
    expect(other.state.open).toBe(true);

    // Answered from the other tab: the main tab's Device accepts it.
    await other.accept();
    expect.verifySteps(["call.accept"]);
    call.emit("accept", call);
    await animationFrame();
    expect(other.state.status).toBe("connected");
    other.hangUp();
    expect.verifySteps(["call.disconnect"]);
    await animationFrame();
    expect(other.state.status).toBe("ended");

    // Click to call in the other tab dials from the main tab.
    main.dismiss();
    await other.dial("+32470123456", { resModel: "res.partner", resId: 8 });
    await animationFrame();
    expect.verifySteps([
        'device.connect {"To":"+32470123456","CallerId":"+12025550100","ResModel":"res.partner","ResId":"8"}',
    ]);
    main.hangUp();
    expect.verifySteps(["call.disconnect"]);

    // The main tab closes: the other one is elected and registers the Device.
    mainTab.main = false;
    mainTab.bus.trigger("no_longer_main_tab");
    otherTab.main = true;
    otherTab.bus.trigger("become_main_tab");
    await animationFrame();
    expect.verifySteps(["device.destroy", "rpc token", "device.register jwt2"]);
    expect(main.device).toBe(null);
    expect(other.device).toBe(lastDevice());
});

test("Twilio adapter: the SDK is loaded only when a Device is made, with our options", async () => {
    class TwilioDevice {
        constructor(token, options) {
            expect.step(`new Device ${token} ${options.closeProtection} ${options.codecPreferences}`);
        }
    }
    patchWithCleanup(assets, {
        loadJS: async (url) => {
            expect.step(`loadJS ${url}`);
            window.Twilio = { Device: TwilioDevice };
        },
    });
    patchWithCleanup(window, { Twilio: undefined });
    expect.verifySteps([]);
    const device = await makeTwilioDevice("jwt1", { closeProtection: "A call is in progress" });
    expect.verifySteps([`loadJS ${TWILIO_SDK_URL}`, "new Device jwt1 A call is in progress opus,pcmu"]);
    expect(device).toBeInstanceOf(TwilioDevice);
    expect(typeof device.needsMicrophone).toBe("function");
});

test("sandbox Device: the server's signals ring it, accept and hang up go to the server", async () => {
    const ringing = [
        {
            call_sid: "CA1",
            leg_sid: "CA2",
            from: "+12025550143",
            parameters: { call_id: "3", caller_name: "Azure Interior", lead_id: "42", partner_id: "8" },
            timeout: 20,
        },
    ];
    const rpc = async (route, params) => {
        expect.step(`${route} ${params.action || ""}`.trim());
        if (route === "/telephony/sandbox/signals") {
            return ringing;
        }
        if (route === "/telephony/sandbox/act") {
            return { call_sid: params.call_sid, state: params.action === "accept" ? "in_progress" : "ended", said: [] };
        }
        if (route === "/telephony/sandbox/connect") {
            return { call_sid: "CA9", state: "ended", said: ["Your company has no credits left for calls."] };
        }
    };
    const device = new SandboxDevice("jwt", { rpc });
    const calls = [];
    device.on("incoming", (call) => calls.push(call));
    await device.register();
    expect.verifySteps(["/telephony/sandbox/signals"]);
    expect(calls).toHaveLength(1);
    const call = calls[0];
    expect(call.parameters.From).toBe("+12025550143");
    expect(call.customParameters.get("caller_name")).toBe("Azure Interior");
    call.on("accept", () => expect.step("accept"));
    call.on("disconnect", () => expect.step("disconnect"));
    await call.accept();
    expect.verifySteps(["/telephony/sandbox/act accept", "accept"]);
    await call.disconnect();
    expect.verifySteps(["/telephony/sandbox/act disconnect", "disconnect"]);

    // The next poll: still listed (answered here), no second ring.
    ringing.length = 0;
    await advanceTime(2000);
    expect.verifySteps(["/telephony/sandbox/signals"]);
    expect(calls).toHaveLength(1);

    // A refused outgoing call ends at once with what the caller would have heard.
    const outgoing = await device.connect({ params: { To: "+8613800138000" } });
    outgoing.on("disconnect", () => expect.step(`disconnect: ${outgoing.said[0]}`));
    await advanceTime(1);
    expect.verifySteps([
        "/telephony/sandbox/connect",
        "disconnect: Your company has no credits left for calls.",
    ]);
    device.destroy();
    await advanceTime(5000);
    expect.verifySteps([]);
});

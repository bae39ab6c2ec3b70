/** @odoo-module **/
/**
 * The salesperson's softphone (C1–C5): one service per tab, one Device per browser.
 *
 * The service speaks to a Device with the interface of Twilio's `Device`/`Call` (events
 * `registered`, `incoming`, `error`, `tokenWillExpire`; calls with `accept`, `reject`,
 * `disconnect`, `mute`, `sendDigits` and events `accept`, `disconnect`, `cancel`, `reject`,
 * `error`). `deviceFactories` makes it: Twilio's own (twilio_device.js) or the sandbox's
 * (sandbox_device.js), the only two places where the providers differ.
 *
 * Several tabs: Odoo's `multi_tab` service elects one main tab, the only one that registers
 * the Device; it publishes the softphone's state as a shared value that the other tabs show,
 * and runs the commands they send (dial, accept, hang up...). When it closes, the next main
 * tab registers the Device again.
 */
import { reactive } from "@odoo/owl";
import { browser } from "@web/core/browser/browser";
import { _t } from "@web/core/l10n/translation";
import { rpc } from "@web/core/network/rpc";
import { registry } from "@web/core/registry";
import { session } from "@web/session";
import { makeSandboxDevice } from "./sandbox_device";
import { makeTwilioDevice } from "./twilio_device";

export const deviceFactories = {
    twilio: makeTwilioDevice,
    sandbox: makeSandboxDevice,
};

/** Renew the access token this long (s) before it expires; the SDK's `tokenWillExpire` fires
 * only once per registration, so a timer of our own renews every later token. */
export const TOKEN_RENEW_MARGIN = 300;
const STATE_KEY = "builtin_telephony.softphone.state";
const COMMAND_KEY = "builtin_telephony.softphone.command";
/** What another tab may ask the main tab to do. */
const COMMANDS = ["dial", "accept", "reject", "hangUp", "toggleMute", "sendDigits", "signIn", "signOut"];

/** Twilio Voice SDK error codes → what the user reads, and what to do next. */
export function errorMessage(error) {
    const code = error?.code;
    const name = error?.originalError?.name || error?.name;
    if (name === "NotAllowedError" || [31208, 31401, 31402].includes(code)) {
        return _t(
            "Your browser did not let the softphone use your microphone, so nobody could hear you. Allow the microphone for this site (the camera/microphone icon in the address bar), then try again."
        );
    }
    if ([20101, 20104, 31204, 31205, 31206].includes(code)) {
        return _t("Your softphone session expired. Sign in to the softphone again.");
    }
    if ([31000, 31003, 31005, 31009, 53000, 53405].includes(code)) {
        return _t(
            "The connection to the telephone service was lost. Check your internet connection; the softphone reconnects by itself."
        );
    }
    if (code === 31486) {
        return _t("The line is busy. Try again later.");
    }
    if (code === 31480) {
        return _t("Nobody answered.");
    }
    if (code === 31404 || code === 31603) {
        return _t("This number cannot be reached. Check the number and try again.");
    }
    return error?.message
        ? _t("The call failed: %(reason)s", { reason: error.message })
        : _t("The call failed. Try again; if it keeps failing, tell your administrator.");
}

function initialState() {
    return {
        enabled: false, // the user is a telephony user of this company
        open: false, // the panel is shown (per tab)
        available: false, // signed in (server's availability)
        registered: false, // the main tab's Device is registered
        status: "offline", // offline | idle | ringing | dialing | connected | ended
        call: null,
        number: "",
        callerId: false,
        callerIds: [],
        allowOutbound: false,
        recent: [],
        error: false,
        notice: false,
        provider: false,
    };
}

export class Softphone {
    /**
     * @param {Object} deps
     * @param {Object} deps.multiTab Odoo's multi_tab service (or a fake with its interface)
     * @param {Function} [deps.rpc]
     * @param {Object} [deps.notification]
     * @param {Object} [deps.busService]
     * @param {Object} [deps.action]
     */
    constructor({ multiTab, rpc: rpcFn = rpc, notification, busService, action }) {
        this.multiTab = multiTab;
        this.rpc = rpcFn;
        this.notification = notification;
        this.action = action;
        this.state = reactive(initialState(), () => this._publish());
        this._publish(); // subscribe the observer to every key
        this.device = null;
        this.activeCall = null;
        this.renewTimer = null;
        this.tokenExpiresAt = 0;
        this.commandId = 0;
        this.multiTab.bus.addEventListener("shared_value_updated", (ev) => this._onShared(ev.detail));
        this.multiTab.bus.addEventListener("become_main_tab", () => this._becomeMain());
        this.multiTab.bus.addEventListener("no_longer_main_tab", () => this._destroyDevice());
        busService?.subscribe("builtin_telephony/ringing", (payload) => this._onRingingNotice(payload));
    }

    get isMain() {
        return this.multiTab.isOnMainTab();
    }

    /** Load the user's softphone; registers the Device if they were signed in. */
    async load() {
        const values = await this.rpc("/telephony/softphone/state", {});
        Object.assign(this.state, {
            enabled: true,
            provider: values.provider,
            available: values.available,
            allowOutbound: values.allow_outbound,
            callerIds: values.caller_ids,
            callerId: this.state.callerId || values.caller_ids[0] || false,
            recent: values.recent_calls,
        });
        if (!this.isMain) {
            const shared = this.multiTab.getSharedValue(STATE_KEY);
            if (shared) {
                this._applyShared(shared);
            }
        } else if (values.available) {
            await this._startDevice();
        }
    }

    // -- Sign in / out ---------------------------------------------------------------------

    async signIn() {
        if (!this.isMain) {
            return this._send("signIn");
        }
        this.state.error = false;
        await this.rpc("/telephony/softphone/availability", { available: true });
        this.state.available = true;
        await this._startDevice();
    }

    async signOut() {
        if (!this.isMain) {
            return this._send("signOut");
        }
        this._destroyDevice();
        await this.rpc("/telephony/softphone/availability", { available: false });
        Object.assign(this.state, { available: false, status: "offline" });
    }

    // -- Calls -----------------------------------------------------------------------------

    /**
     * Call `number`; `record` ({resModel, resId, name}) ties the call to the record it was
     * placed from (click to call). The server decides whether the call may be placed.
     */
    async dial(number, record = {}) {
        this.state.open = true;
        if (!this.isMain) {
            return this._send("dial", number, record);
        }
        number = (number || this.state.number || "").trim();
        if (!number) {
            return;
        }
        if (this.state.call) {
            this.state.error = _t("Hang up the current call before placing another one.");
            return;
        }
        if (!this.device) {
            await this.signIn();
            if (!this.device) {
                return;
            }
        }
        const params = { To: number };
        if (this.state.callerId) {
            params.CallerId = this.state.callerId;
        }
        if (record.resModel && record.resId) {
            params.ResModel = record.resModel;
            params.ResId = String(record.resId);
        }
        Object.assign(this.state, {
            status: "dialing",
            number,
            error: false,
            notice: false,
            call: {
                direction: "outbound",
                number,
                name: record.name || false,
                resModel: record.resModel || false,
                resId: record.resId || false,
                leadId: record.resModel === "crm.lead" ? record.resId : false,
                partnerId: record.resModel === "res.partner" ? record.resId : false,
                muted: false,
                startedAt: false,
            },
        });
        let call;
        try {
            await this._askMicrophone();
            call = await this.device.connect({ params });
        } catch (error) {
            this._endCall(errorMessage(error));
            return;
        }
        this._watchCall(call);
        call.on("accept", () => this._connected(call));
        call.on("ringing", () => (this.state.status = "dialing"));
    }

    async accept() {
        if (!this.isMain) {
            return this._send("accept");
        }
        if (!this.activeCall || this.state.status !== "ringing") {
            return;
        }
        try {
            await this._askMicrophone();
        } catch (error) {
            this.state.error = errorMessage(error);
            return;
        }
        this.activeCall.accept();
    }

    reject() {
        if (!this.isMain) {
            return this._send("reject");
        }
        if (this.activeCall && this.state.status === "ringing") {
            this.activeCall.reject();
            this._endCall(false, "rejected");
        }
    }

    hangUp() {
        if (!this.isMain) {
            return this._send("hangUp");
        }
        if (this.activeCall) {
            this.activeCall.disconnect();
        } else if (this.state.call) {
            this._endCall();
        }
    }

    toggleMute() {
        if (!this.isMain) {
            return this._send("toggleMute");
        }
        if (this.activeCall && this.state.call) {
            const muted = !this.state.call.muted;
            this.activeCall.mute(muted);
            this.state.call.muted = muted;
        }
    }

    sendDigits(digits) {
        if (!this.isMain) {
            return this._send("sendDigits", digits);
        }
        if (this.activeCall && this.state.status === "connected") {
            this.activeCall.sendDigits(digits);
        }
    }

    dismiss() {
        if (this.state.status === "ended") {
            Object.assign(this.state, { status: this.device ? "idle" : "offline", call: null });
        }
        this.state.error = false;
    }

    // -- Device ----------------------------------------------------------------------------

    async _startDevice() {
        if (this.device) {
            return;
        }
        let token;
        try {
            token = await this._fetchToken();
            const device = await deviceFactories[token.provider](token.token, {
                rpc: this.rpc,
                closeProtection: _t("A call is in progress: leaving this page ends it."),
            });
            this.device = device;
            device.on("registered", () => {
                this.state.registered = true;
                if (!this.state.call) {
                    this.state.status = "idle";
                }
            });
            device.on("unregistered", () => (this.state.registered = false));
            device.on("incoming", (call) => this._incoming(call));
            device.on("error", (error) => (this.state.error = errorMessage(error)));
            device.on("tokenWillExpire", () => this.renewToken());
            await device.register();
        } catch (error) {
            this.device = null;
            this.state.status = "offline";
            this.state.error = error?.data?.message || errorMessage(error);
        }
    }

    _destroyDevice() {
        browser.clearTimeout(this.renewTimer);
        this.renewTimer = null;
        if (this.device) {
            this.device.destroy();
            this.device = null;
        }
        this.activeCall = null;
        this.state.registered = false;
    }

    async _fetchToken() {
        const token = await this.rpc("/telephony/softphone/token", {});
        this.tokenExpiresAt = token.expires_at;
        browser.clearTimeout(this.renewTimer);
        const delay = Math.max(token.expires_at - Date.now() / 1000 - TOKEN_RENEW_MARGIN, 1);
        this.renewTimer = browser.setTimeout(() => this.renewToken(), delay * 1000);
        return token;
    }

    /** A new token before the current one expires (`tokenWillExpire`, or our own timer). */
    async renewToken() {
        if (!this.device) {
            return;
        }
        try {
            const token = await this._fetchToken();
            this.device?.updateToken(token.token);
        } catch (error) {
            this.state.error = error?.data?.message || errorMessage({ code: 20104 });
        }
    }

    async _askMicrophone() {
        if (!this.device.needsMicrophone) {
            return;
        }
        this.state.notice = _t(
            "Your browser may ask to use your microphone: allow it, so that the person on the line can hear you."
        );
        try {
            await this.device.needsMicrophone();
        } finally {
            this.state.notice = false;
        }
    }

    _incoming(call) {
        const param = (name) => call.customParameters?.get(name);
        if (this.state.call) {
            call.reject();
            return;
        }
        this.activeCall = call;
        Object.assign(this.state, {
            status: "ringing",
            open: true,
            error: false,
            call: {
                direction: "inbound",
                number: call.parameters?.From || "",
                numberDisplay: param("caller_number") || call.parameters?.From || "",
                name: param("caller_name") || false,
                callId: Number(param("call_id")) || false,
                sid: call.parameters?.CallSid || false,
                partnerId: Number(param("partner_id")) || false,
                leadId: Number(param("lead_id")) || false,
                muted: false,
                startedAt: false,
            },
        });
        this._watchCall(call);
        call.on("accept", () => this._connected(call));
        call.on("cancel", () => this._endCall(_t("The caller hung up."), "missed"));
    }

    _watchCall(call) {
        this.activeCall = call;
        call.on("disconnect", () => this._endCall(call.said?.length ? call.said.join(" ") : false));
        call.on("reject", () => this._endCall(_t("The call was declined.")));
        call.on("error", (error) => this._endCall(errorMessage(error)));
    }

    _connected(call) {
        Object.assign(this.state, { status: "connected" });
        this.state.call.startedAt = Date.now();
        // Twilio knows an outgoing call's CallSid once it is answered.
        this.state.call.sid = this.state.call.sid || call?.parameters?.CallSid || false;
    }

    /** A note on the current or last call (any tab: no Device needed); it reaches the lead. */
    async saveNote(body) {
        const call = this.state.call;
        if (!call || !(call.callId || call.sid) || !body?.trim()) {
            return false;
        }
        try {
            await this.rpc("/telephony/softphone/note", {
                body,
                call_id: call.callId || false,
                call_sid: call.sid || false,
            });
        } catch (error) {
            this.state.error = error?.data?.message || _t("The note could not be saved.");
            return false;
        }
        this.notification?.add(_t("Note saved on the call."), { type: "success" });
        return true;
    }

    _endCall(message = false, outcome = false) {
        if (!this.state.call) {
            return;
        }
        this.activeCall = null;
        const call = this.state.call;
        call.endedAt = Date.now();
        call.outcome = outcome || (call.startedAt ? "completed" : "missed");
        Object.assign(this.state, { status: "ended", error: message || false, notice: false });
        this._refreshRecent();
    }

    async _refreshRecent() {
        try {
            const values = await this.rpc("/telephony/softphone/state", {});
            this.state.recent = values.recent_calls;
        } catch {
            // The list refreshes with the next call.
        }
    }

    // -- Tabs ------------------------------------------------------------------------------

    async _becomeMain() {
        if (this.state.available) {
            await this._startDevice();
        }
    }

    _publish() {
        // Reading every key subscribes the reactive observer to them.
        const snapshot = JSON.parse(JSON.stringify({ ...this.state, open: false }));
        if (this.multiTab?.isOnMainTab() && snapshot.enabled) {
            this.multiTab.setSharedValue(STATE_KEY, snapshot);
        }
    }

    _applyShared(shared) {
        const { open, ...rest } = shared;
        Object.assign(this.state, rest);
        if (shared.status === "ringing") {
            this.state.open = true;
        }
    }

    _onShared({ key, newValue }) {
        if (key === STATE_KEY && !this.isMain && newValue) {
            this._applyShared(JSON.parse(newValue));
        } else if (key === COMMAND_KEY && this.isMain && newValue) {
            const { name, args } = JSON.parse(newValue);
            if (COMMANDS.includes(name)) {
                this[name](...args);
            }
        }
    }

    _send(name, ...args) {
        this.multiTab.setSharedValue(COMMAND_KEY, {
            name,
            args,
            id: `${this.multiTab.currentTabId}-${++this.commandId}`,
        });
    }

    _onRingingNotice(payload) {
        // A tab (or browser) without the ringing Device: say who is calling all the same.
        // This browser's Device rings itself (here or in the main tab): no second notice.
        if (this.state.status === "ringing" || this.activeCall || this.state.registered) {
            return;
        }
        this.notification?.add(
            payload.caller_name
                ? _t("%(name)s (%(number)s) is calling", {
                      name: payload.caller_name,
                      number: payload.number,
                  })
                : _t("%(number)s is calling", { number: payload.number }),
            { title: _t("Incoming call"), type: "info" }
        );
    }

    /** Open the lead or contact of the current call. */
    openRecord(call = this.state.call) {
        const [resModel, resId] = call.leadId
            ? ["crm.lead", call.leadId]
            : call.partnerId
            ? ["res.partner", call.partnerId]
            : [call.resModel, call.resId];
        if (resModel && resId) {
            this.action.doAction({
                type: "ir.actions.act_window",
                res_model: resModel,
                res_id: resId,
                views: [[false, "form"]],
            });
        }
    }
}

export const softphoneService = {
    dependencies: ["multi_tab", "notification", "bus_service", "action"],
    start(env, { multi_tab, notification, bus_service, action }) {
        const softphone = new Softphone({
            multiTab: multi_tab,
            notification,
            busService: bus_service,
            action,
        });
        if (session.builtin_telephony_softphone) {
            softphone.load().catch(() => (softphone.state.enabled = false));
        }
        return softphone;
    },
};

registry.category("services").add("builtin_telephony.softphone", softphoneService);

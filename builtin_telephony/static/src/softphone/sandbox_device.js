/** @odoo-module **/
/**
 * The sandbox's Device: the interface of Twilio's `Device` and `Call` (same events, same
 * methods) for the `sandbox` provider. Audio is simulated; the calls are real: each action is
 * a request to the server, which plays Twilio's part and walks the call through the add-on's
 * signed webhooks (models/telephony_sandbox_call.py). Like Twilio's Device, which keeps a
 * signalling connection open, it asks the server every few seconds what rings it.
 */
import { browser } from "@web/core/browser/browser";

export const SANDBOX_POLL_MS = 2000;

class Emitter {
    constructor() {
        this._handlers = {};
    }
    on(event, handler) {
        (this._handlers[event] ||= []).push(handler);
        return this;
    }
    off(event, handler) {
        this._handlers[event] = (this._handlers[event] || []).filter((h) => h !== handler);
        return this;
    }
    emit(event, ...args) {
        for (const handler of this._handlers[event] || []) {
            handler(...args);
        }
    }
}

export class SandboxCall extends Emitter {
    constructor(device, { sid, direction, from, to, parameters = {}, timeout = 30 }) {
        super();
        this.device = device;
        this.sid = sid;
        this.direction = direction === "inbound" ? "INCOMING" : "OUTGOING";
        this.parameters = { CallSid: sid, From: from, To: to };
        this.customParameters = new Map(Object.entries(parameters));
        this.said = [];
        this._muted = false;
        this._status = direction === "inbound" ? "pending" : "connecting";
        if (direction === "inbound") {
            // Twilio's <Dial timeout>: the caller stops ringing this device.
            this._timeout = browser.setTimeout(() => this._act("no_answer"), timeout * 1000);
        }
    }

    status() {
        return this._status;
    }

    isMuted() {
        return this._muted;
    }

    mute(shouldMute = true) {
        this._muted = shouldMute;
        this.emit("mute", shouldMute, this);
    }

    sendDigits(digits) {
        this._act("digits", digits);
    }

    async accept() {
        const answer = await this._act("accept");
        if (answer.state === "in_progress") {
            this._status = "open";
            this.emit("accept", this);
        }
    }

    async reject() {
        await this._act("reject");
        this._status = "closed";
    }

    async disconnect() {
        if (this._status === "closed") {
            return;
        }
        await this._act("disconnect");
        this._close("disconnect");
    }

    async _act(action, digits = "") {
        browser.clearTimeout(this._timeout);
        const answer = await this.device.rpc("/telephony/sandbox/act", {
            call_sid: this.sid,
            action,
            digits,
        });
        this.said = answer.said || [];
        if (action === "no_answer" && this._status === "pending") {
            this._close("cancel");
        }
        return answer;
    }

    _close(event) {
        if (this._status === "closed") {
            return;
        }
        this._status = "closed";
        this.device._forget(this);
        this.emit(event, this);
    }
}

export class SandboxDevice extends Emitter {
    constructor(token, { rpc }) {
        super();
        this.token = token;
        this.rpc = rpc;
        this.state = "unregistered";
        this.calls = new Map(); // sid → SandboxCall (the incoming ones still ringing or live)
        this._poll = null;
    }

    async register() {
        this.state = "registered";
        this.emit("registered");
        await this._signals();
    }

    async unregister() {
        browser.clearTimeout(this._poll);
        this.state = "unregistered";
        this.emit("unregistered");
    }

    destroy() {
        browser.clearTimeout(this._poll);
        for (const call of this.calls.values()) {
            call._close("disconnect");
        }
        this.state = "destroyed";
        this.emit("destroyed");
    }

    updateToken(token) {
        this.token = token;
    }

    async connect({ params = {} } = {}) {
        const answer = await this.rpc("/telephony/sandbox/connect", { params });
        const call = new SandboxCall(this, {
            sid: answer.call_sid,
            direction: "outbound",
            from: "",
            to: params.To,
        });
        call.said = answer.said || [];
        this.calls.set(call.sid, call);
        // Twilio emits its events after connect() returns the Call.
        browser.setTimeout(() => {
            if (answer.state === "in_progress") {
                call._status = "open";
                call.emit("accept", call);
            } else if (answer.state === "ended") {
                call._close("disconnect");
            }
        }, 0);
        return call;
    }

    _forget(call) {
        this.calls.delete(call.sid);
    }

    async _signals() {
        if (this.state !== "registered") {
            return;
        }
        try {
            const ringing = await this.rpc("/telephony/sandbox/signals", {}, { silent: true });
            const sids = new Set(ringing.map((ring) => ring.call_sid));
            for (const ring of ringing) {
                if (!this.calls.has(ring.call_sid)) {
                    const call = new SandboxCall(this, {
                        sid: ring.call_sid,
                        direction: "inbound",
                        from: ring.from,
                        to: "",
                        parameters: ring.parameters,
                        timeout: ring.timeout,
                    });
                    this.calls.set(call.sid, call);
                    this.emit("incoming", call);
                }
            }
            for (const call of [...this.calls.values()]) {
                // Answered elsewhere, or the caller left: it no longer rings here.
                if (call._status === "pending" && !sids.has(call.sid)) {
                    browser.clearTimeout(call._timeout);
                    call._close("cancel");
                }
            }
        } catch (error) {
            this.emit("error", { code: 31005, message: error?.message });
        }
        if (this.state === "registered") {
            this._poll = browser.setTimeout(() => this._signals(), SANDBOX_POLL_MS);
        }
    }
}

export async function makeSandboxDevice(token, { rpc }) {
    return new SandboxDevice(token, { rpc });
}

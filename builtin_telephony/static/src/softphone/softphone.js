/** @odoo-module **/
import { Component, onWillUnmount, useState } from "@odoo/owl";
import { browser } from "@web/core/browser/browser";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";

export const DIAL_PAD = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

/** The softphone in the systray (C4): sign in/out, dial pad, ringing, the call, recent calls. */
export class SoftphoneSystray extends Component {
    static template = "builtin_telephony.SoftphoneSystray";
    static props = {};

    setup() {
        this.softphone = useService("builtin_telephony.softphone");
        this.state = useState(this.softphone.state);
        this.clock = useState({ now: Date.now(), keypad: false, note: "" });
        this.interval = browser.setInterval(() => (this.clock.now = Date.now()), 1000);
        onWillUnmount(() => browser.clearInterval(this.interval));
        this.dialPad = DIAL_PAD;
    }

    get duration() {
        const call = this.state.call;
        if (!call?.startedAt) {
            return "";
        }
        const seconds = Math.max(0, Math.floor(((call.endedAt || this.clock.now) - call.startedAt) / 1000));
        return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
    }

    get statusLabel() {
        return {
            ringing: _t("Incoming call"),
            dialing: _t("Calling…"),
            connected: _t("Connected"),
            ended: _t("Call ended"),
        }[this.state.status];
    }

    async saveNote() {
        if (await this.softphone.saveNote(this.clock.note)) {
            this.clock.note = "";
        }
    }

    toggle() {
        this.state.open = !this.state.open;
    }

    press(key) {
        if (this.state.status === "connected") {
            this.softphone.sendDigits(key);
        } else {
            this.state.number = (this.state.number || "") + key;
        }
    }

    onNumberKeydown(ev) {
        if (ev.key === "Enter") {
            this.softphone.dial(this.state.number);
        }
    }

    callBack(call) {
        this.softphone.dial(call.number, {
            resModel: call.lead_id ? "crm.lead" : call.partner_id ? "res.partner" : false,
            resId: call.lead_id || call.partner_id || false,
            name: call.name,
        });
    }

    openRecent(call) {
        this.softphone.openRecord({ leadId: call.lead_id, partnerId: call.partner_id });
    }
}

// Shown only to telephony users: the template renders nothing until the softphone is loaded.
registry.category("systray").add("builtin_telephony.softphone", { Component: SoftphoneSystray }, { sequence: 45 });

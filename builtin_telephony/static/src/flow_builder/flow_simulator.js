/** @odoo-module **/
import { Component, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { useService } from "@web/core/utils/hooks";

/**
 * "Test this flow" (B2): walk the draft or the published version as a caller, through
 * `telephony.flow.simulate` — the engine that answers real calls, with nothing logged or
 * charged. Each choice (a key, what the person rung does, a message left or not) is appended
 * to the list of choices and the walk is asked again from the start, so what is shown is
 * exactly what a call with these choices gets.
 */
export class FlowSimulator extends Component {
    static template = "builtin_telephony.FlowSimulator";
    static props = ["builder", "ui"];

    setup() {
        this.orm = useService("orm");
        this.ui = useState(this.props.ui);
        this.sim = useState({
            called: this.props.builder.flow.numbers[0] || "",
            caller: "+14155550123",
            choices: [],
            result: null,
            error: "",
            busy: false,
            hours: "",
        });
        this.keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0"];
        this.transferOptions = [
            ["answered", _t("Answered")],
            ["no-answer", _t("No answer")],
            ["busy", _t("Busy")],
            ["offline", _t("Offline")],
        ];
        this.voicemailOptions = [
            ["message", _t("Leave a message")],
            ["", _t("Hang up without a message")],
        ];
    }

    get builder() {
        return this.props.builder;
    }

    get which() {
        return this.ui.tab === "published" ? "published" : "draft";
    }

    get numbers() {
        return this.builder.flow.numbers;
    }

    get started() {
        return Boolean(this.sim.result);
    }

    get waiting() {
        return this.sim.result?.waiting || null;
    }

    get ended() {
        return this.sim.result && !this.sim.result.waiting;
    }

    stateName(stateId) {
        return this.builder.model.label(stateId);
    }

    eventText(step) {
        const texts = {
            entered: _t("entered"),
            ringing: _t("rings"),
            queued: _t("waits in the queue"),
            answered: _t("answered"),
            bridged: _t("answered from the queue"),
            voicemail: _t("message recorded"),
            invalid_key: _t("invalid key"),
            callback: _t("asked to be called back"),
            hangup: _t("caller hung up"),
        };
        return texts[step.event] || this.builder.eventLabel(step.event);
    }

    get hasBusinessHours() {
        return Object.values(this.builder.model.states).some((state) => state.type === "business_hours");
    }

    get callbackText() {
        return _t("Press %s to be called back", this.waiting.options[0]);
    }

    get introText() {
        return this.which === "draft"
            ? _t("Walk the draft as a caller would, with the engine that answers real calls. Nothing is logged or charged.")
            : _t("Walk the published version as a caller would, with the engine that answers real calls. Nothing is logged or charged.");
    }

    get waitingText() {
        const name = this.stateName(this.waiting.state);
        const texts = {
            ivr: _t("The caller is at %s: press a key.", name),
            transfer: _t("The phone rings (%s): what happens?", name),
            voicemail: _t("Recording at %s: what does the caller do?", name),
            queue: _t("Waiting in the queue (%s): the caller may ask to be called back.", name),
        };
        return texts[this.waiting.kind];
    }

    get endText() {
        const texts = {
            completed: _t("Someone answered the call."),
            voicemail: _t("The caller left a voicemail."),
            missed: _t("The call ended without anyone answering."),
            busy: _t("The call ended: everyone was busy."),
            blocked: _t("The caller's number is blocked: the call is rejected before any flow runs."),
            rejected: _t("The flow has nothing to run: the call is rejected."),
            callback: _t("The caller asked to be called back."),
        };
        const end = this.sim.result?.end;
        return _t("Call ended: %s", texts[end] || end);
    }

    async call() {
        this.sim.choices = [];
        await this.run();
    }

    async choose(choice) {
        this.sim.choices.push(choice);
        await this.run();
    }

    async undoChoice() {
        this.sim.choices.pop();
        await this.run();
    }

    async run() {
        this.sim.busy = true;
        this.sim.error = "";
        try {
            if (this.which === "draft" && this.ui.dirty) {
                await this.builder.saveDraft();
            }
            const result = await this.orm.call("telephony.flow", "simulate", [[this.builder.flowId], this.which, [...this.sim.choices]], {
                caller: this.sim.caller || false,
                called: this.sim.called || false,
                hours: this.sim.hours || false,
            });
            this.sim.result = result;
            this.builder.showSimulation(result);
        } catch (error) {
            this.sim.error = error.data?.message || error.message;
        } finally {
            this.sim.busy = false;
        }
    }

    reset() {
        this.sim.result = null;
        this.sim.choices = [];
        this.builder.clearPath();
    }

    close() {
        this.reset();
        this.builder.closeSimulator();
    }
}

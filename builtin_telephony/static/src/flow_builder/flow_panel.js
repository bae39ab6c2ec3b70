/** @odoo-module **/
import { Component, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { useService } from "@web/core/utils/hooks";
import { getDataURLFromFile } from "@web/core/utils/urls";

/**
 * The side panel of the selected state: its name and every setting its type has, as the
 * schema describes them (`get_builder_schema`: integers with their range and default,
 * messages, the queue section...). Each change is one undo step of the draft.
 */
export class FlowStatePanel extends Component {
    static template = "builtin_telephony.FlowStatePanel";
    static props = ["builder", "model", "ui", "stateId"];

    setup() {
        this.orm = useService("orm");
        this.model = useState(this.props.model);
        this.ui = useState(this.props.ui);
        this.upload = useState({ busy: false, error: "" });
    }

    get builder() {
        return this.props.builder;
    }

    get state() {
        return this.model.state(this.props.stateId);
    }

    get type() {
        return this.model.typeOf(this.props.stateId);
    }

    get readonly() {
        return this.ui.readonly;
    }

    get problems() {
        return this.ui.problemsByState[this.props.stateId] || [];
    }

    get outputs() {
        return this.model.events(this.props.stateId).map((event) => {
            const target = this.model.target(this.props.stateId, event);
            return { event, label: this.builder.eventLabel(event), target, targetName: target ? this.model.label(target) : "" };
        });
    }

    /** The settings shown: those whose `visible_if` holds. */
    visibleSettings(settings, values) {
        return settings.filter((setting) => {
            const condition = setting.visible_if;
            if (!condition) {
                return true;
            }
            const value = values?.[condition.key] ?? this.defaultOf(settings, condition.key);
            return value === condition.value;
        });
    }

    recordsOf(setting) {
        const flow = this.builder.flow;
        return { telephony_user: flow.users, telephony_group: flow.groups, calendar: flow.calendars }[setting.kind] || [];
    }

    onEmailTo(setting, choice) {
        this.set(setting, choice || undefined);
    }

    rangeText(setting) {
        return _t("From %(min)s to %(max)s, %(default)s by default.", setting);
    }

    defaultOf(settings, key) {
        return settings.find((setting) => setting.key === key)?.default;
    }

    value(setting, section) {
        const values = section ? this.state[section.key] || {} : this.state;
        const value = values[setting.key];
        return value === undefined || value === null ? setting.default : value;
    }

    sectionValues(section) {
        return this.state[section.key] || {};
    }

    sectionOn(section) {
        return Boolean(this.sectionValues(section)[section.toggle]);
    }

    set(setting, value, section) {
        if (this.readonly) {
            return;
        }
        if (section) {
            const values = { ...(this.state[section.key] || {}) };
            if (value === undefined) {
                delete values[setting.key];
            } else {
                values[setting.key] = value;
            }
            this.model.updateState(this.props.stateId, { [section.key]: values });
        } else {
            this.model.updateState(this.props.stateId, { [setting.key]: value });
        }
    }

    toggleSection(section, checked) {
        if (this.readonly) {
            return;
        }
        const values = checked
            ? { ...this.builder.schema.queue_defaults, ...(this.state[section.key] || {}), [section.toggle]: true }
            : { ...(this.state[section.key] || {}), [section.toggle]: false };
        this.model.updateState(this.props.stateId, { [section.key]: values });
    }

    onName(ev) {
        const name = ev.target.value.trim();
        if (name && name !== this.state.name) {
            this.model.updateState(this.props.stateId, { name });
        }
    }

    onInteger(setting, section, ev) {
        const value = parseInt(ev.target.value, 10);
        this.set(setting, Number.isNaN(value) ? undefined : value, section);
    }

    onRecord(setting, section, ev) {
        const value = parseInt(ev.target.value, 10);
        this.set(setting, value || undefined, section);
    }

    // -- Messages: text read aloud (language, voice), an uploaded WAV, or an audio URL -------

    messageKinds(setting) {
        const kinds = [];
        if (setting.optional) {
            kinds.push(["none", _t("Off")]);
        }
        if (!setting.audio_only) {
            kinds.push(["text", _t("Text read aloud")]);
        }
        kinds.push(["file", _t("Audio file (WAV)")], ["url", _t("Audio URL")]);
        return kinds;
    }

    message(setting, section) {
        const message = this.value(setting, section);
        return message && typeof message === "object" ? message : { kind: "none" };
    }

    onMessageKind(setting, section, ev) {
        const kind = ev.target.value;
        const current = this.message(setting, section);
        if (kind === "none") {
            this.set(setting, undefined, section);
            return;
        }
        const fresh = { kind };
        if (kind === "text") {
            fresh.text = current.kind === "text" ? current.text : "";
        } else if (kind === "url") {
            fresh.url = "";
        }
        this.set(setting, fresh, section);
    }

    onMessageField(setting, section, field, ev) {
        const message = { ...this.message(setting, section) };
        const value = ev.target.value;
        if (value) {
            message[field] = value;
        } else {
            delete message[field];
        }
        // A voice only speaks its own language(s): another language drops it.
        if (field === "language" && message.voice && !this.voices(message).includes(message.voice)) {
            delete message.voice;
        }
        this.set(setting, message, section);
    }

    /** The voices that speak the message's language; without a language, the message is
     * read in the company's by the voice the engine picks for it. */
    voices(message) {
        return (message.language && this.builder.schema.voices[message.language]) || [];
    }

    attachmentName(message) {
        return this.builder.attachments[message.attachment_id] || (message.attachment_id ? `#${message.attachment_id}` : "");
    }

    async onUpload(setting, section, ev) {
        const file = ev.target.files[0];
        if (!file) {
            return;
        }
        this.upload.error = "";
        if (!/\.wav$/i.test(file.name) && !/wav/.test(file.type)) {
            this.upload.error = _t("Choose a WAV file.");
            return;
        }
        this.upload.busy = true;
        try {
            const dataUrl = await getDataURLFromFile(file);
            const [attachmentId] = await this.orm.create("ir.attachment", [{
                name: file.name,
                datas: dataUrl.split(",")[1],
                mimetype: "audio/wav",
                res_model: "telephony.flow",
                res_id: this.builder.flowId,
            }]);
            this.builder.attachments[attachmentId] = file.name;
            this.set(setting, { kind: "file", attachment_id: attachmentId }, section);
        } finally {
            this.upload.busy = false;
            ev.target.value = "";
        }
    }

    // -- Connections ---------------------------------------------------------------------

    disconnect(event) {
        this.builder.deleteConnection(this.props.stateId, event);
    }

    deleteState() {
        this.builder.deleteState(this.props.stateId);
    }

    close() {
        this.ui.selected = null;
    }
}

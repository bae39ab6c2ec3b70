/** @odoo-module **/
import { Component } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

/** A recording's player (its `audio_url`: the access-checked playback route; seeking works). */
export class AudioField extends Component {
    static template = "builtin_telephony.AudioField";
    static props = { ...standardFieldProps };

    get url() {
        return this.props.record.data[this.props.name];
    }
}

registry.category("fields").add("telephony_audio", {
    component: AudioField,
    supportedTypes: ["char"],
});

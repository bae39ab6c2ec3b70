/** @odoo-module **/
import { registry } from "@web/core/registry";
import { CharField, charField } from "@web/views/fields/char/char_field";

/**
 * A phone number kept in E.164 (+14155550142) and read in international format
 * (+1 415-555-0142), as a person reads it (I6). The formatted text comes from the server
 * (phonenumbers, through `tools/phone.py`) in the field named by the `display_field` option;
 * editing shows the number as typed.
 */
export class TelephonyPhoneNumberField extends CharField {
    static template = "builtin_telephony.TelephonyPhoneNumberField";
    static props = { ...CharField.props, displayField: { type: String, optional: true } };

    get formattedNumber() {
        const { record, name, displayField } = this.props;
        const value = record.data[name] || "";
        const formatted = displayField && record.data[displayField];
        // Right after an edit the server has not formatted the new number yet.
        return formatted && !record.dirty ? formatted : value;
    }
}

registry.category("fields").add("telephony_phone_number", {
    ...charField,
    component: TelephonyPhoneNumberField,
    extractProps: (fieldInfo, dynamicInfo) => ({
        ...charField.extractProps(fieldInfo, dynamicInfo),
        displayField: fieldInfo.options.display_field,
    }),
});

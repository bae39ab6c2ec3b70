/** @odoo-module **/
/**
 * Click to call (C1): a call button beside every phone and mobile field, patched in as the
 * `sms` module adds its SMS button. The call is tied to the record it was placed from.
 */
import { Component, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { useService } from "@web/core/utils/hooks";
import { PhoneField } from "@web/views/fields/phone/phone_field";

export class TelephonyCallButton extends Component {
    static template = "builtin_telephony.CallButton";
    static props = ["*"];

    setup() {
        this.softphone = useService("builtin_telephony.softphone");
        this.softphoneState = useState(this.softphone.state);
        this.title = _t("Call with the softphone");
    }

    get number() {
        return this.props.record.data[this.props.name] || "";
    }

    async onClick() {
        const record = this.props.record;
        if (record.isNew || record.dirty) {
            await record.save();
        }
        this.softphone.dial(this.number, {
            resModel: record.resModel,
            resId: record.resId,
            name: record.data.display_name || record.data.name || false,
        });
    }
}

patch(PhoneField, {
    components: { ...PhoneField.components, TelephonyCallButton },
});

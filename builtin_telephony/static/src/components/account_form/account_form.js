/** @odoo-module **/
import { registry } from "@web/core/registry";
import { usePager } from "@web/search/pager_hook";
import { formView } from "@web/views/form/form_view";
import { FormController } from "@web/views/form/form_controller";
import { X2ManyField, x2ManyField } from "@web/views/fields/x2many/x2many_field";
import { useOpenX2ManyRecord, useX2ManyCrud } from "@web/views/fields/relational_utils";

/**
 * The Built-in Telephony page reads as a settings page: one page per company, so no "1 / 1"
 * pager (a second pager hook replaces the form's for the control panel).
 */
export class TelephonyAccountFormController extends FormController {
    setup() {
        super.setup();
        usePager(() => null);
    }
}

registry.category("views").add("telephony_account_form", {
    ...formView,
    Controller: TelephonyAccountFormController,
});

/**
 * A tab's list (telephony users, call flows, groups) whose dialog saves for real: what "Save"
 * in the dialog keeps, and what the list's trash icon removes, is written to the database at
 * once, by saving the page, instead of waiting for the page's own save icon.
 */
export class TelephonySavedX2ManyField extends X2ManyField {
    setup() {
        super.setup();
        const { saveRecord, updateRecord, removeRecord } = useX2ManyCrud(() => this.list, this.isMany2Many);
        const savePage = async () => {
            await this.props.record.save();
        };
        const openRecord = useOpenX2ManyRecord({
            resModel: this.list.resModel,
            activeField: this.activeField,
            activeActions: this.activeActions,
            getList: () => this.list,
            saveRecord: async (record) => {
                await saveRecord(record);
                await savePage();
            },
            updateRecord: async (record) => {
                await updateRecord(record);
                await savePage();
            },
            isMany2Many: this.isMany2Many,
        });
        this._openRecord = (params) => openRecord(params);
        this.removeAndSave = async (record) => {
            await removeRecord(record);
            await savePage();
        };
    }

    get rendererProps() {
        const props = super.rendererProps;
        if (props.activeActions?.onDelete) {
            props.activeActions = { ...props.activeActions, onDelete: this.removeAndSave };
        }
        return props;
    }
}

registry.category("fields").add("telephony_saved_one2many", {
    ...x2ManyField,
    component: TelephonySavedX2ManyField,
});

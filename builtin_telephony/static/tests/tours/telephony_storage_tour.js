/** @odoo-module **/
// An administrator checks the recording storage on the Plan details tab and moves to a larger
// plan through the purchase summary.
import { registry } from "@web/core/registry";
import { openBuiltinTelephony } from "./tour_steps";

registry.category("web_tour.tours").add("builtin_telephony_storage_plan", {
    url: "/odoo",
    steps: () => [
        ...openBuiltinTelephony(),
        {
            content: "The page opens on Plan details",
            trigger: ".o_notebook .nav-link.active:contains('Plan details')",
        },
        {
            content: "The storage usage: 30 minutes of the free plan's 1,000",
            trigger: ".o_telephony_storage_usage .o_telephony_storage_figures:contains('30 / 1,000 min')",
        },
        {
            content: "The chart is drawn",
            trigger: ".o_telephony_storage_chart canvas",
        },
        {
            content: "Recordings are never deleted for now",
            trigger: ".o_field_widget[name=recording_retention] select",
            run: "selectByLabel After 6 months",
        },
        {
            content: "Save the retention",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_form_saved",
        },
        {
            content: "Change the storage plan",
            trigger: "button:contains('Change storage plan')",
            run: "click",
        },
        {
            content: "The next plan up is offered with its price",
            trigger: ".modal .o_field_widget[name=monthly_price]:contains('25.00')",
        },
        {
            content: "Choose 200,000 minutes",
            trigger: ".modal .o_field_widget[name=storage_plan] .o_radio_item:contains('200,000') input",
            run: "click",
        },
        {
            content: "The purchase summary follows",
            trigger: ".modal .o_field_widget[name=due_now]:contains('50.00')",
        },
        {
            content: "Confirm",
            trigger: ".modal button[name=action_confirm]",
            run: "click",
        },
        {
            content: "The plan changed",
            trigger: ".o_notification:contains('Storage plan changed')",
        },
        {
            content: "The page shows the new plan",
            trigger: ".o_telephony_storage_usage .o_telephony_storage_figures:contains('30 / 200,000 min')",
        },
    ],
});

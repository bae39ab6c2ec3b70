/** @odoo-module **/
// The Call flows tab: an administrator compares a flow's draft with its published version, side
// by side and in words, publishes the draft, then disables the flow from the list.
import { registry } from "@web/core/registry";
import { openBuiltinTelephony } from "./tour_steps";

registry.category("web_tour.tours").add("builtin_telephony_call_flows", {
    url: "/odoo",
    steps: () => [
        ...openBuiltinTelephony("Call flows"),
        {
            content: "The flow is listed, published",
            trigger: ".o_field_widget[name=flow_ids] .o_data_row:contains('Tour line'):contains('Published')",
        },
        {
            content: "Open the flow",
            trigger: ".o_field_widget[name=flow_ids] .o_data_row:contains('Tour line') .o_data_cell[name=name]",
            run: "click",
        },
        {
            content: "The draft is described in words, its changed state marked",
            trigger: ".modal .o_field_widget[name=draft_html] .o_telephony_flow_description:contains('Welcome to the new line'):contains('Changed')",
        },
        {
            content: "The published version sits beside it",
            trigger: ".modal .o_field_widget[name=published_html]:contains('Thanks for calling'):contains('Main menu —1→ Sales')",
        },
        {
            content: "Publish the draft",
            trigger: ".modal button[name=action_publish]",
            run: "click",
        },
        {
            content: "Both versions now say the same",
            trigger: ".modal .o_field_widget[name=published_html]:contains('Welcome to the new line')",
        },
        {
            content: "Close the flow",
            trigger: ".modal .o_form_button_save, .modal .o_form_button_cancel, .modal .btn-close",
            run: "click",
        },
        {
            content: "Disable the flow from the list",
            trigger: ".o_field_widget[name=flow_ids] .o_data_row:contains('Tour line') .o_field_widget[name=active] input",
            run: "click",
        },
        {
            content: "Save the page",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_form_saved",
        },
    ],
});

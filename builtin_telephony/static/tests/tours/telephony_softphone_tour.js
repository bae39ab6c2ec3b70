/** @odoo-module **/
// The salesperson's softphone on the sandbox provider (SPEC C1–C5): click to call from a lead,
// a call ringing the softphone with the caller's lead, a missed call leaving a call-back.
import { registry } from "@web/core/registry";
import { openBuiltinTelephony } from "./tour_steps";

const panel = ".o_telephony_softphone_panel";

function callEnds() {
    return [
        {
            content: "Hang up",
            trigger: `${panel} .o_telephony_hangup`,
            run: "click",
        },
        {
            content: "The call is over",
            trigger: `${panel} .o_telephony_call_status:contains('Call ended')`,
        },
        {
            content: "Close the call",
            trigger: `${panel} .o_telephony_dismiss`,
            run: "click",
        },
    ];
}

registry.category("web_tour.tours").add("builtin_telephony_click_to_call", {
    steps: () => [
        {
            content: "Go to the lead's phone: its buttons show",
            trigger: ".o_form_view .o_field_widget[name=phone] input",
            run: "click",
            timeout: 30000, // the web client's first load, on a loaded test machine
        },
        {
            content: "Call the lead's phone from its form",
            trigger: ".o_form_view .o_field_widget[name=phone] .o_telephony_call_button_field",
            run: "click",
        },
        {
            content: "The softphone signs in, dials, and the person called answers",
            trigger: `${panel} .o_telephony_call_status:contains('Connected')`,
            timeout: 20000,
        },
        {
            content: "The softphone shows who is on the line and a timer",
            trigger: `${panel} .o_telephony_call_name:contains('Quote for Dana')`,
        },
        {
            trigger: `${panel} .o_telephony_timer`,
        },
        {
            content: "Mute",
            trigger: `${panel} .o_telephony_mute`,
            run: "click",
        },
        {
            trigger: `${panel} .o_telephony_mute:contains('Unmute')`,
        },
        {
            content: "Hang up",
            trigger: `${panel} .o_telephony_hangup`,
            run: "click",
        },
        {
            content: "Write a note about the call",
            trigger: `${panel} .o_telephony_note`,
            run: "edit Wants 20 desks by March",
        },
        {
            trigger: `${panel} .o_telephony_save_note:enabled`,
            run: "click",
        },
        {
            content: "Close the call",
            trigger: `${panel} .o_telephony_dismiss`,
            run: "click",
        },
        {
            content: "The call is in the recent calls, with its lead: open it",
            trigger: `${panel} .o_telephony_recent a:contains('Quote for Dana')`,
            run: "click",
        },
        {
            content: "The lead counts the call on its Calls smart button",
            trigger: ".o_form_view .oe_stat_button[name=action_view_telephony_calls]:contains('1')",
        },
        {
            content: "The call is noted on the lead's chatter",
            trigger: ".o-mail-Chatter .o-mail-Message:contains('Outgoing call')",
        },
        {
            content: "The note written in the softphone reached the lead",
            trigger: ".o-mail-Chatter .o-mail-Message:contains('Wants 20 desks by March')",
        },
    ],
});

registry.category("web_tour.tours").add("builtin_telephony_incoming_call", {
    url: "/odoo",
    steps: () => [
        ...openBuiltinTelephony(),
        {
            content: "Open the numbers",
            trigger: ".o_notebook .nav-link:contains('Phone numbers')",
            run: "click",
        },
        {
            content: "Simulate an incoming call on the number",
            trigger: ".o_field_widget[name=number_ids] .o_data_row .o_telephony_simulate_call",
            run: "click",
        },
        {
            content: "The caller calls from the lead's phone",
            trigger: ".modal .o_field_widget[name=from_number] input",
            run: "edit +12125550142",
        },
        {
            trigger: ".modal .modal-footer button[name=action_call]",
            run: "click",
        },
        {
            content: "The softphone rings with the caller's lead, before answering",
            trigger: `${panel} .o_telephony_call_status:contains('Incoming call')`,
            timeout: 20000,
        },
        {
            trigger: `${panel} .o_telephony_call_name:contains('Quote for Dana')`,
        },
        {
            trigger: `${panel} .o_telephony_open_record:contains('Open the lead')`,
        },
        {
            content: "Answer",
            trigger: `${panel} .o_telephony_accept`,
            run: "click",
        },
        {
            trigger: `${panel} .o_telephony_call_status:contains('Connected')`,
        },
        ...callEnds(),
        {
            content: "The call is in the recent calls",
            trigger: `${panel} .o_telephony_recent a:contains('Quote for Dana')`,
        },
    ],
});

registry.category("web_tour.tours").add("builtin_telephony_missed_call", {
    url: "/odoo",
    steps: () => [
        ...openBuiltinTelephony(),
        {
            content: "Open the numbers",
            trigger: ".o_notebook .nav-link:contains('Phone numbers')",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=number_ids] .o_data_row .o_telephony_simulate_call",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=from_number] input",
            run: "edit +12125550142",
        },
        {
            trigger: ".modal .modal-footer button[name=action_call]",
            run: "click",
        },
        {
            content: "The softphone rings",
            trigger: `${panel} .o_telephony_reject`,
            timeout: 20000,
            run: "click",
        },
        {
            content: "Declined: the caller is sent to voicemail",
            trigger: `${panel} .o_telephony_call_status:contains('Call ended')`,
        },
        {
            trigger: `${panel} .o_telephony_dismiss`,
            run: "click",
        },
        {
            content: "Open the lead from the recent calls",
            trigger: `${panel} .o_telephony_recent a:contains('Quote for Dana')`,
            run: "click",
        },
        {
            content: "A call-back activity waits on the lead",
            trigger: ".o-mail-Chatter .o-mail-Activity:contains('Call back')",
        },
    ],
});

/** @odoo-module **/
// The visual builder (F3, F4, B2): an administrator creates a call flow from nothing by
// dragging states onto the canvas and arrows between them (announce → IVR with two keys →
// transfer to a group → voicemail), sees a loop refused as it is drawn, publishes, then walks
// the published flow in the simulator.
import { registry } from "@web/core/registry";
import { openBuiltinTelephony } from "./tour_steps";

const card = (stateId) => `.o_tfb_card[data-state-id='${stateId}']`;
const handle = (stateId, event) => `${card(stateId)} .o_tfb_handle[data-event='${event}']`;

/** Drag a state type from the left panel and drop it at (left, top) of the canvas. */
function dropState(type, left, top) {
    return {
        content: `Drag a ${type} state onto the canvas`,
        trigger: `.o_tfb_palette_item[data-type='${type}']`,
        async run(helpers) {
            await helpers.drag_and_drop(".o_tfb_canvas", { position: { left, top }, relative: true });
        },
    };
}

/** Drag from `source`'s `event` output and drop on `target`. */
function connect(source, event, target) {
    return {
        content: `Connect ${source} (${event}) to ${target}`,
        trigger: handle(source, event),
        async run(helpers) {
            await helpers.drag_and_drop(`${card(target)} .o_tfb_card_header`, { position: { left: 60, top: 10 }, relative: true });
        },
    };
}

function setText(setting, text) {
    return [
        {
            content: `Type the ${setting}`,
            trigger: `.o_tfb_panel .o_tfb_setting[data-setting='${setting}'] textarea`,
            run: `edit ${text}`,
        },
        {
            content: "Leave the field (the change is one undo step)",
            trigger: ".o_tfb_panel .o_tfb_input_name",
            run: "click",
        },
    ];
}

function rename(name) {
    return [
        { content: `Name the state ${name}`, trigger: ".o_tfb_panel .o_tfb_input_name", run: `edit ${name}` },
        { content: "Leave the name field", trigger: ".o_tfb_panel label:contains('Name')", run: "click" },
    ];
}

registry.category("web_tour.tours").add("builtin_telephony_flow_builder", {
    url: "/odoo",
    steps: () => [
        ...openBuiltinTelephony("Call flows"),
        {
            content: "Create a call flow",
            trigger: ".o_notebook button:contains('Create call flow')",
            run: "click",
        },
        {
            content: "Name it",
            trigger: ".modal .o_field_widget[name=name] input",
            run: "edit Builder line",
        },
        {
            content: "Describe it",
            trigger: ".modal .o_field_widget[name=description] textarea",
            run: "edit Built by dragging",
        },
        {
            content: "Go on to the builder",
            trigger: ".modal button:contains('Continue to the builder')",
            run: "click",
        },
        {
            content: "The builder opens on an empty canvas",
            trigger: ".o_telephony_flow_builder .o_tfb_empty",
        },
        // -- Announce ---------------------------------------------------------------------
        dropState("announce", 60, 80),
        { content: "The announcement is on the canvas, selected", trigger: `${card("announce_1")}.o_tfb_selected` },
        {
            content: "A new announcement has no text yet: the problem is shown on it",
            trigger: `${card("announce_1")} .o_tfb_problem_icon`,
        },
        ...rename("Welcome"),
        ...setText("message", "Thanks for calling the builder line"),
        {
            content: "Solved: the card no longer shows a problem",
            trigger: `${card("announce_1")}:not(.o_tfb_invalid):contains('Thanks for calling')`,
        },
        // -- IVR with two keys --------------------------------------------------------------
        dropState("ivr", 340, 60),
        ...rename("Main menu"),
        ...setText("message", "Press 1 for the team, 2 for voicemail"),
        connect("announce_1", "next", "ivr_1"),
        {
            content: "The arrow from Welcome to the menu is drawn",
            trigger: ".o_tfb_connection[data-source='announce_1'][data-event='next'][data-target='ivr_1']",
        },
        // -- Transfer to a group, voicemail ------------------------------------------------------
        dropState("transfer_group", 640, 40),
        ...rename("Team"),
        {
            content: "Ring the Tour team group",
            trigger: ".o_tfb_panel .o_tfb_setting[data-setting='group_id'] select",
            run: "selectByLabel Tour team",
        },
        dropState("voicemail", 640, 330),
        ...rename("Voicemail"),
        ...setText("message", "Leave a message after the tone"),
        connect("ivr_1", "1", "transfer_group_1"),
        connect("ivr_1", "2", "voicemail_1"),
        connect("transfer_group_1", "timeout", "voicemail_1"),
        {
            content: "The menu's two keys are connected",
            trigger: `${card("ivr_1")}:contains('Keys: 1, 2')`,
        },
        // -- A loop is refused as it is drawn --------------------------------------------------
        connect("voicemail_1", "timeout", "announce_1"),
        {
            content: "The loop is refused, in place, with the reason",
            trigger: ".o_tfb_refusal:contains('loop'):contains('Welcome')",
        },
        {
            content: "…and not drawn",
            trigger: `body:not(:has(.o_tfb_connection[data-source='voicemail_1']))`,
        },
        // -- Publish ---------------------------------------------------------------------------
        {
            content: "Nothing left to solve",
            trigger: ".o_tfb_problems_button:contains('Ready to publish')",
        },
        {
            content: "Publish",
            trigger: ".o_tfb_publish",
            run: "click",
        },
        {
            content: "Version 1 is published",
            trigger: ".o_tfb_tabs .nav-link[data-tab='published'] .badge:contains('v1')",
        },
        {
            content: "Look at the published version",
            trigger: ".o_tfb_tabs .nav-link[data-tab='published']",
            run: "click",
        },
        {
            content: "It is read-only: no palette, no trash on the arrows",
            trigger: ".o_tfb_canvas.o_tfb_readonly:not(:has(.o_tfb_conn_trash))",
        },
        // -- Walk it in the simulator ---------------------------------------------------------
        {
            content: "Test this flow",
            trigger: ".o_tfb_test",
            run: "click",
        },
        {
            content: "Call",
            trigger: ".o_tfb_sim_call",
            run: "click",
        },
        {
            content: "The caller hears the welcome and the menu",
            trigger: ".o_tfb_sim_steps:contains('Thanks for calling the builder line'):contains('Press 1 for the team')",
        },
        {
            content: "Press 1",
            trigger: ".o_tfb_sim_key[data-key='1']",
            run: "click",
        },
        {
            content: "The team's phones ring: nobody answers",
            trigger: ".o_tfb_sim_choice[data-choice='no-answer']",
            run: "click",
        },
        {
            content: "Voicemail: leave a message",
            trigger: ".o_tfb_sim_waiting:contains('Voicemail') .o_tfb_sim_choice[data-choice='message']",
            run: "click",
        },
        {
            content: "The call ends with a voicemail, the path lit on the canvas",
            trigger: ".o_tfb_sim_end[data-end='voicemail']",
        },
        {
            content: "The path is lit on the canvas",
            trigger: `${card("transfer_group_1")}.o_tfb_on_path`,
        },
    ],
});

/*
 * Consent bar. Config: {title, text, labels: {accept_all, save, reject}, position: top|bottom,
 * colours, event_type, consents: [{id, name, description, required, default_granted}]}.
 * Sends ONE event, `event_type` (consent-given), with {"consents": {"<id>": true|false, ...}}:
 * one key per offered type, true when granted. Required types are always granted.
 */
var CONSENT_CSS = [
    ".cdpw-inner{max-width:1080px;margin:0 auto;}",
    ".cdpw-choices{display:grid;grid-template-columns:repeat(auto-fit,minmax(230px,1fr));",
    "gap:8px 16px;margin:0 0 4px;padding:0;border:0;}",
    ".cdpw-choice{display:flex;gap:10px;align-items:flex-start;padding:8px 10px;",
    "border:1px solid rgba(127,127,127,.35);border-radius:8px;cursor:pointer;}",
    ".cdpw-choice input{width:18px;height:18px;margin:2px 0 0;flex:none;accent-color:var(--cdpw-button);}",
    ".cdpw-choice-name{display:block;font-weight:600;}",
    ".cdpw-choice-desc{display:block;font-size:13px;opacity:.85;}",
    ".cdpw-always{font-weight:400;font-size:12px;opacity:.8;}"
].join("");

widgetStart("consent", function (host, config) {
    var title = text(config, "title", true);
    var intro = text(config, "text", true);
    var labels = config.labels;
    if (!labels || typeof labels !== "object") {
        fail("labels are missing");
    }
    var acceptAllLabel = text(labels, "accept_all");
    var saveLabel = text(labels, "save");
    var rejectLabel = text(labels, "reject", true);
    var position = oneOf(config, "position", ["bottom", "top"]);
    var eventType = text(config, "event_type");
    var offered = config.consents;
    if (!Array.isArray(offered) || !offered.length) {
        fail("consents lists no consent type to offer");
    }
    offered.forEach(function (consent, index) {
        if (!consent || typeof consent.id !== "string" || !consent.id) {
            fail("consents[" + index + "] has no id");
        }
        if (typeof consent.name !== "string" || !consent.name) {
            fail("consents[" + index + "] (" + consent.id + ") has no name");
        }
    });

    var view = frame(host, config, {
        classes: "cdpw-bar cdpw-bar-" + position,
        title: title,
        label: "Your privacy choices",
        role: "region",
        css: CONSENT_CSS
    });
    var inner = el("div", {"class": "cdpw-inner"});
    var heading = view.box.querySelector(".cdpw-title");
    if (heading) {
        inner.appendChild(heading);
    }
    if (intro) {
        inner.appendChild(el("p", {"class": "cdpw-text", text: intro}));
    }
    var boxes = {};
    var choices = el("fieldset", {"class": "cdpw-choices", "aria-label": "Consents"});
    offered.forEach(function (consent) {
        var input = el("input", {type: "checkbox", name: consent.id, value: "granted"});
        input.checked = Boolean(consent.required || consent.default_granted);
        input.disabled = Boolean(consent.required);
        boxes[consent.id] = input;
        var name = el("span", {"class": "cdpw-choice-name", text: consent.name});
        if (consent.required) {
            name.appendChild(doc.createTextNode(" "));
            name.appendChild(el("span", {"class": "cdpw-always", text: "(always on)"}));
        }
        var words = el("span", {}, [name]);
        if (consent.description) {
            words.appendChild(el("span", {"class": "cdpw-choice-desc", text: consent.description}));
        }
        choices.appendChild(el("label", {"class": "cdpw-choice", "data-consent": consent.id},
            [input, words]));
    });
    inner.appendChild(choices);

    function answer(pick) {
        var consents = {};
        offered.forEach(function (consent) {
            consents[consent.id] = Boolean(consent.required) || pick(consent);
        });
        send(eventType, {consents: consents});
        view.close();
    }

    var actions = el("div", {"class": "cdpw-actions"});
    var acceptAll = el("button", {type: "button", "class": "cdpw-button", text: acceptAllLabel});
    acceptAll.addEventListener("click", function () {
        answer(function () { return true; });
    });
    var save = el("button", {type: "button", "class": "cdpw-button cdpw-secondary", text: saveLabel});
    save.addEventListener("click", function () {
        answer(function (consent) { return boxes[consent.id].checked; });
    });
    actions.appendChild(acceptAll);
    actions.appendChild(save);
    if (rejectLabel.trim()) {
        var reject = el("button", {type: "button", "class": "cdpw-button cdpw-secondary",
            text: rejectLabel});
        reject.addEventListener("click", function () {
            answer(function () { return false; });
        });
        actions.appendChild(reject);
    }
    inner.appendChild(actions);
    view.box.appendChild(inner);
});

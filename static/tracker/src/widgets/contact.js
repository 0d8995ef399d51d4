/*
 * Contact form popup. Config: {title, text, fields: ["email", "phone"], consent_text,
 * submit_label, thanks, event_type, position, colours}. Sends `event_type` (identification)
 * with {"email": ..., "phone": ...} (the fields shown): the predefined Identification event
 * type maps them to the profile's data.contact.email.main and data.contact.phone.main.
 */
var CONTACT_CSS = [
    ".cdpw-error{color:#b42318;font-size:13px;margin:-6px 0 8px;}",
    ".cdpw-agree{display:flex;gap:8px;align-items:flex-start;font-size:13px;margin:2px 0 10px;}",
    ".cdpw-agree input{width:18px;height:18px;margin:1px 0 0;flex:none;accent-color:var(--cdpw-button);}"
].join("");
var EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
var PHONE = /^\+?[0-9 ()\-]{6,20}$/;
var CONTACT_FIELDS = {
    email: {label: "E-mail", type: "email", autocomplete: "email", pattern: EMAIL,
        problem: "Please enter an e-mail address like name@example.com."},
    phone: {label: "Phone", type: "tel", autocomplete: "tel", pattern: PHONE,
        problem: "Please enter a phone number (digits, spaces, + and -)."}
};

widgetStart("contact", function (host, config) {
    var title = text(config, "title");
    var intro = text(config, "text", true);
    var fields = config.fields;
    if (!Array.isArray(fields) || !fields.length) {
        fail("fields lists nothing to ask for (email, phone)");
    }
    fields.forEach(function (field) {
        if (!Object.prototype.hasOwnProperty.call(CONTACT_FIELDS, field)) {
            fail("fields has " + JSON.stringify(field) + "; only email and phone can be asked for");
        }
    });
    var consentText = text(config, "consent_text", true).trim();
    var submitLabel = text(config, "submit_label");
    var thanks = text(config, "thanks", true);
    var eventType = text(config, "event_type");
    var position = oneOf(config, "position", ["bottom-right", "bottom-left", "center"]);

    var view = frame(host, config, {classes: "cdpw-popup cdpw-" + position, title: title,
        css: CONTACT_CSS});
    if (intro) {
        view.box.appendChild(el("p", {"class": "cdpw-text", text: intro}));
    }
    var form = el("form", {novalidate: "novalidate"});
    var inputs = {};
    fields.forEach(function (field) {
        var spec = CONTACT_FIELDS[field];
        var id = uniqueId(field);
        inputs[field] = el("input", {id: id, name: field, type: spec.type, "class": "cdpw-input",
            autocomplete: spec.autocomplete, required: "required", maxlength: "200"});
        form.appendChild(el("label", {"class": "cdpw-label", "for": id, text: spec.label}));
        form.appendChild(inputs[field]);
    });
    var agree = null;
    if (consentText) {
        agree = el("input", {type: "checkbox", name: "agree"});
        form.appendChild(el("label", {"class": "cdpw-agree"}, [agree,
            el("span", {text: consentText})]));
    }
    var error = el("p", {"class": "cdpw-error", role: "alert"});
    form.appendChild(error);
    form.appendChild(el("button", {type: "submit", "class": "cdpw-button", text: submitLabel}));
    form.addEventListener("input", function () {
        error.textContent = "";  // the visitor is fixing it
    });
    form.addEventListener("change", function () {
        error.textContent = "";
    });
    form.addEventListener("submit", function (event) {
        event.preventDefault();
        var properties = {};
        for (var i = 0; i < fields.length; i++) {
            var field = fields[i];
            var value = inputs[field].value.trim();
            if (!CONTACT_FIELDS[field].pattern.test(value)) {
                error.textContent = CONTACT_FIELDS[field].problem;
                inputs[field].focus();
                return;
            }
            properties[field] = value;
        }
        if (agree && !agree.checked) {
            error.textContent = "Please tick the box to agree first.";
            agree.focus();
            return;
        }
        send(eventType, properties);
        thank(view, thanks || "Thank you!");
    });
    view.box.appendChild(form);
});

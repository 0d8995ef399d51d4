/*
 * What every widget script shares. The build (apps/tracking/snippet.py) puts this file and one
 * widget's file into a single closure, served as /tracker/widgets/<name>.js: each served file
 * stands alone.
 *
 * A widget is delivered by the tracker as a marker element
 *     <div class="cdp-widget" data-widget="<name>" data-config="<JSON>">
 * and this script. The script renders every marker of its name that is on the page, and those
 * that later /track answers add (the tracker announces them with the `tracker:ux` event). The
 * widget is drawn inside the marker's shadow root, so the shop's CSS cannot reach it and its
 * CSS cannot reach the shop. A marker whose config is broken shows nothing and logs one
 * console message: "[Tracker] <name> widget skipped: <reason>".
 *
 * Answers go out through window.tracker.track(type, properties, {fire: true}), so the event
 * carries the visitor's session and profile.
 */

var STATE_ATTRIBUTE = "data-cdp-state";
var COLOUR = /^#[0-9a-fA-F]{6}$/;

function WidgetConfigError(message) {
    this.message = message;
}

function fail(message) {
    throw new WidgetConfigError(message);
}

function text(config, key, optional) {
    var value = config[key];
    if (value === undefined || value === null) {
        value = "";
    }
    if (typeof value !== "string") {
        fail(key + " must be a text");
    }
    if (!optional && !value.trim()) {
        fail(key + " is empty");
    }
    return value;
}

function oneOf(config, key, allowed) {
    if (allowed.indexOf(config[key]) < 0) {
        fail(key + " must be one of " + allowed.join(", ") + ", not " + JSON.stringify(config[key]));
    }
    return config[key];
}

function colours(config) {
    var given = config.colours;
    if (!given || typeof given !== "object") {
        fail("colours are missing");
    }
    ["background", "text", "button"].forEach(function (key) {
        if (!COLOUR.test(given[key] || "")) {
            fail("colours." + key + " is not a #rrggbb colour: " + JSON.stringify(given[key]));
        }
    });
    return given;
}

// Black or white, whichever reads better on `hex` (WCAG relative luminance).
function readableOn(hex) {
    var channels = [1, 3, 5].map(function (start) {
        var value = parseInt(hex.slice(start, start + 2), 16) / 255;
        return value <= 0.03928 ? value / 12.92 : Math.pow((value + 0.055) / 1.055, 2.4);
    });
    var luminance = 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
    return luminance > 0.179 ? "#111111" : "#ffffff";
}

function el(tag, attributes, children) {
    var element = doc.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
        if (name === "text") {
            element.textContent = attributes[name];
        } else if (attributes[name] !== null && attributes[name] !== undefined) {
            element.setAttribute(name, attributes[name]);
        }
    });
    (children || []).forEach(function (child) {
        if (child) {
            element.appendChild(child);
        }
    });
    return element;
}

var uniqueCount = 0;

function uniqueId(prefix) {
    uniqueCount += 1;
    return "cdpw-" + prefix + "-" + uniqueCount;
}

// The look every widget shares; `--cdpw-*` variables carry the marketer's colours.
var BASE_CSS = [
    ":host{all:initial;}",
    ".cdpw-box{position:fixed;z-index:2147483000;box-sizing:border-box;",
    "font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;",
    "font-size:15px;line-height:1.45;color:var(--cdpw-text);background:var(--cdpw-bg);",
    "box-shadow:0 8px 30px rgba(0,0,0,.22);border:1px solid rgba(0,0,0,.12);}",
    ".cdpw-box *{box-sizing:border-box;font-family:inherit;}",
    ".cdpw-popup{width:360px;max-width:calc(100vw - 32px);border-radius:12px;padding:20px 20px 18px;}",
    ".cdpw-bottom-right{right:16px;bottom:16px;}",
    ".cdpw-bottom-left{left:16px;bottom:16px;}",
    ".cdpw-center{left:50%;top:50%;transform:translate(-50%,-50%);}",
    ".cdpw-bar{left:0;right:0;padding:16px 56px 16px 24px;max-height:85vh;overflow:auto;}",
    ".cdpw-bar-top{top:0;}",
    ".cdpw-bar-bottom{bottom:0;}",
    ".cdpw-title{margin:0 32px 6px 0;font-size:17px;font-weight:650;line-height:1.3;}",
    ".cdpw-text{margin:0 0 12px;}",
    ".cdpw-close{position:absolute;top:8px;right:8px;width:32px;height:32px;border:0;",
    "border-radius:6px;background:transparent;color:var(--cdpw-text);font-size:22px;",
    "line-height:32px;cursor:pointer;padding:0;}",
    ".cdpw-close:hover{background:rgba(127,127,127,.18);}",
    ".cdpw-button{display:inline-block;border:2px solid var(--cdpw-button);border-radius:8px;",
    "padding:9px 16px;font-size:15px;font-weight:600;cursor:pointer;line-height:1.2;",
    "background:var(--cdpw-button);color:var(--cdpw-button-text);text-decoration:none;}",
    ".cdpw-button:hover{filter:brightness(1.08);}",
    ".cdpw-secondary{background:transparent;color:var(--cdpw-text);",
    "border-color:rgba(127,127,127,.55);}",
    ".cdpw-box button:focus-visible,.cdpw-box a:focus-visible,.cdpw-box input:focus-visible{",
    "outline:3px solid var(--cdpw-button);outline-offset:2px;}",
    ".cdpw-actions{display:flex;flex-wrap:wrap;gap:8px;margin-top:12px;}",
    ".cdpw-input{width:100%;padding:9px 10px;border:1px solid rgba(127,127,127,.6);",
    "border-radius:8px;font-size:15px;background:#fff;color:#111;margin:4px 0 10px;}",
    ".cdpw-label{display:block;font-weight:600;font-size:14px;}",
    ".cdpw-thanks{margin:4px 32px 0 0;font-weight:600;}",
    "@media (max-width:600px){.cdpw-popup{left:0;right:0;bottom:0;top:auto;transform:none;",
    "width:auto;max-width:none;border-radius:12px 12px 0 0;}",
    ".cdpw-bar{padding:14px 48px 14px 16px;}}"
].join("");

/*
 * The shadow root of a marker, with the base CSS, the widget's CSS and the colours applied;
 * `box` is the fixed element the widget fills. Returns {root, box, close}.
 */
function frame(host, config, options) {
    var palette = colours(config);
    var root = host.attachShadow ? host.attachShadow({mode: "open"}) : host;
    var titleId = uniqueId("title");
    root.appendChild(el("style", {text: BASE_CSS + (options.css || "")}));
    var box = el("div", {
        "class": "cdpw-box " + options.classes,
        role: options.role || "dialog",
        "aria-labelledby": options.title ? titleId : null,
        "aria-label": options.title ? null : options.label
    });
    box.style.setProperty("--cdpw-bg", palette.background);
    box.style.setProperty("--cdpw-text", palette.text);
    box.style.setProperty("--cdpw-button", palette.button);
    box.style.setProperty("--cdpw-button-text", readableOn(palette.button));
    var closeButton = el("button", {type: "button", "class": "cdpw-close", "aria-label": "Close",
        title: "Close", text: "\u00d7"});
    function close() {
        if (box.parentNode) {
            box.parentNode.removeChild(box);
        }
        if (options.onClose) {
            options.onClose();
        }
    }
    closeButton.addEventListener("click", close);
    box.addEventListener("keydown", function (event) {
        if (event.key === "Escape") {
            close();
        }
    });
    box.appendChild(closeButton);
    if (options.title) {
        box.appendChild(el("h2", {id: titleId, "class": "cdpw-title", text: options.title}));
    }
    root.appendChild(box);
    return {root: root, box: box, close: close};
}

function send(type, properties) {
    var tracker = win.tracker;
    if (!tracker || typeof tracker.track !== "function") {
        console.error("[Tracker] No window.tracker on this page: the widget's answer (" + type +
            ") was not sent.");
        return Promise.resolve(null);
    }
    return Promise.resolve(tracker.track(type, properties, {fire: true}));
}

// After an answer: the box shows the thank-you text, then goes away.
function thank(view, message) {
    var keep = view.box.querySelector(".cdpw-close");
    // The focused control is about to go: a keyboard user keeps the focus, on "Close".
    var focused = view.root.activeElement;
    var hadFocus = Boolean(focused && view.box.contains(focused));
    Array.prototype.slice.call(view.box.childNodes).forEach(function (child) {
        if (child !== keep) {
            view.box.removeChild(child);
        }
    });
    view.box.appendChild(el("p", {"class": "cdpw-thanks", role: "status", text: message}));
    if (hadFocus) {
        keep.focus();
    }
    setTimeout(view.close, 4000);
}

/*
 * Registers widget `name`: `render(host, config)` draws one marker's widget, throwing
 * WidgetConfigError (through `fail`) for a config it cannot show.
 */
function widgetStart(name, render) {
    var registry = win.__cdpWidgets = win.__cdpWidgets || {};
    if (registry[name]) {
        registry[name]();  // the script ran twice: the first copy does the work
        return;
    }

    function renderOne(host) {
        host.setAttribute(STATE_ATTRIBUTE, "shown");
        try {
            var config = JSON.parse(host.getAttribute("data-config") || "null");
            if (!config || typeof config !== "object" || Array.isArray(config)) {
                fail("data-config is not a JSON object");
            }
            render(host, config);
        } catch (error) {
            host.setAttribute(STATE_ATTRIBUTE, "skipped");
            if (host.shadowRoot) {
                host.shadowRoot.innerHTML = "";
            }
            var reason = error instanceof WidgetConfigError ? error.message :
                error instanceof SyntaxError ? "data-config is not valid JSON (" + error.message + ")" :
                    String(error && error.message || error);
            console.error("[Tracker] " + name + " widget skipped: " + reason);
        }
    }

    function scan() {
        var hosts = doc.querySelectorAll(".cdp-widget[data-widget=\"" + name + "\"]");
        Array.prototype.forEach.call(hosts, function (host) {
            if (!host.hasAttribute(STATE_ATTRIBUTE)) {
                renderOne(host);
            }
        });
    }

    registry[name] = scan;
    win.addEventListener("tracker:ux", scan);
    scan();
}

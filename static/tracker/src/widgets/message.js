/*
 * Call-to-action message. Config: {text, link: {url, label} or null, position:
 * corner|bottom|top, show_after_seconds, hide_after_seconds (0: until closed), colours}. The
 * text arrives rendered (the workflow filled its placeholders).
 */
var MESSAGE_CSS = [
    ".cdpw-message{margin:0 36px 0 0;font-size:16px;}",
    ".cdpw-bar .cdpw-inner{max-width:1080px;margin:0 auto;display:flex;flex-wrap:wrap;",
    "align-items:center;gap:10px 20px;}",
    ".cdpw-bar .cdpw-message{margin:0;}",
    ".cdpw-bar .cdpw-actions{margin:0;}",
    ".cdpw-popup .cdpw-actions{margin-top:14px;}"
].join("");

function seconds(config, key) {
    var value = config[key];
    if (typeof value !== "number" || value < 0 || Math.floor(value) !== value) {
        fail(key + " must be a whole number of seconds, not " + JSON.stringify(value));
    }
    return value;
}

widgetStart("message", function (host, config) {
    var message = text(config, "text");
    var position = oneOf(config, "position", ["corner", "bottom", "top"]);
    var showAfter = seconds(config, "show_after_seconds");
    var hideAfter = seconds(config, "hide_after_seconds");
    var link = config.link;
    if (link !== null && link !== undefined) {
        var url = text(link, "url");
        text(link, "label");
        if (!/^(https?:\/\/|\/(?!\/))/i.test(url)) {
            fail("link.url must start with https://, http:// or /, not " + JSON.stringify(url));
        }
    }
    colours(config);

    function show() {
        var classes = position === "corner" ? "cdpw-popup cdpw-bottom-right" :
            "cdpw-bar cdpw-bar-" + position;
        var view = frame(host, config, {classes: classes, label: "Message", role: "region",
            css: MESSAGE_CSS});
        var inner = el("div", {"class": "cdpw-inner"},
            [el("p", {"class": "cdpw-message", text: message})]);
        if (link) {
            inner.appendChild(el("div", {"class": "cdpw-actions"}, [
                el("a", {"class": "cdpw-button", href: link.url, text: link.label})
            ]));
        }
        view.box.appendChild(inner);
        if (hideAfter > 0) {
            setTimeout(view.close, hideAfter * 1000);
        }
    }

    if (showAfter > 0) {
        setTimeout(function () {
            try {
                show();
            } catch (error) {
                console.error("[Tracker] message widget skipped: " + (error && error.message));
            }
        }, showAfter * 1000);
    } else {
        show();
    }
});

/*
 * CDP tracker loader: the part of the snippet that is pasted into a page.
 *
 * It defines window.tracker.track (and onResponse) at once, so calls made before the tracker
 * script has loaded are queued (in window.tracker.q), then loads <options.tracker.url.script>/index.min.js
 * when the document is ready. The tracker script takes over the queue when it runs.
 *
 * It also defines Tracardi's `window.onTracardiReady.bind(fn)`, so a page can bind its
 * callback before the tracker has loaded.
 *
 * The page's `const options = {tracker: {...}}` may come before or after this code in the same
 * <script>: it is read only once the document is ready, never while the snippet runs.
 */
(function (win, doc) {
    "use strict";
    var stub = win.tracker || {};
    if (stub.loaded || stub.q) {
        return;  // the snippet is on the page twice: the first copy does the work
    }
    var queue = [];
    stub.q = queue;
    stub.track = function () {
        queue.push(["track"].concat(Array.prototype.slice.call(arguments)));
        return stub;
    };
    // Registered before the first answer, so a callback set in the page's <head> sees it.
    stub.onResponse = function (callback) {
        queue.push(["onResponse", callback]);
        return stub;
    };
    win.tracker = stub;
    // Tracardi's hook for the first answer: window.onTracardiReady.bind(fn) may be called
    // before the tracker has loaded; the tracker calls the bound functions (see tracker.js).
    if (!win.onTracardiReady) {
        var ready = [];
        win.onTracardiReady = {
            bind: function (callback) {
                if (typeof callback === "function") {
                    ready.push(callback);
                }
            },
            call: function (params) {
                ready.forEach(function (callback) {
                    try {
                        callback(params);
                    } catch (error) {
                        console.error("[Tracker] A window.onTracardiReady callback failed: " +
                            (error && error.message || error));
                    }
                });
            }
        };
    }

    function readOptions() {
        try {
            /* global options */
            if (typeof options !== "undefined") {
                return options;
            }
        } catch (notYetDefined) {
            // `options` is declared later in the same script: it is read again when ready.
        }
        return win.tracardiOptions;
    }

    function scriptUrl(base) {
        // A base URL (Tracardi's `url.script: 'http://host/tracker'`) gets the file name
        // appended; anything else is taken as the full address of the script.
        if (/^(https?:)?\/\//.test(base) && !/\.js(\?.*)?$/.test(base)) {
            return base.replace(/\/+$/, "") + "/index.min.js";
        }
        return base;
    }

    function load() {
        var config = readOptions();
        var base = config && config.tracker && config.tracker.url && config.tracker.url.script;
        if (!base) {
            console.error(
                "[Tracker] options.tracker.url.script is not set: it is the address of the " +
                "tracker script, e.g. 'https://cdp.example.com/tracker'. Nothing is tracked."
            );
            return;
        }
        var script = doc.createElement("script");
        script.async = true;
        script.src = scriptUrl(base);
        script.onerror = function () {
            console.error(
                "[Tracker] Could not load the tracker script from " + script.src +
                ". Check options.tracker.url.script in the snippet and that the CDP is reachable."
            );
        };
        (doc.head || doc.documentElement).appendChild(script);
    }

    if (doc.readyState === "loading") {
        doc.addEventListener("DOMContentLoaded", load);
    } else {
        setTimeout(load, 0);
    }
})(window, document);

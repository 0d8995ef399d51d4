/*
 * CDP browser tracker (served as /tracker/index.js and, minified, /tracker/index.min.js).
 *
 * Speaks the Tracardi tracker protocol: POST <options.tracker.url.api>/track with a
 * TrackerPayload. Configured by the page's `options` object (see the snippet in the admin):
 *
 *   tracker.url.api            where /track lives
 *   tracker.source.id          the event source (bridge REST API)
 *   tracker.auto.events        [[type, properties, options?], ...] sent with the page's events
 *   tracker.auto.triggers      [{tag, trigger: onVisible|onTextSelect|onMouseOver|onClick,
 *                                data: {event, properties}}] bound to [data-tracardi-tag=<tag>]
 *   tracker.context            {browser, page, screen, utm, performance, storage, cookies,
 *                                location, tracardiPass}: what context is sent (Tracardi's
 *                                names; storage, cookies and location are off by default)
 *   tracker.settings           {respectDoNotTrack, retry: {attempts, delay},
 *                                trackExternalLinks: [domain, ...]}
 *
 * Cross-domain hand-off (Tracardi's): a click on a link to one of
 * settings.trackExternalLinks adds __tr_pid=<profile id>&__tr_src=<source id> to it, and a page
 * opened with them sends them as context.tracardi.pass, so that the server keeps the visitor's
 * profile across a company's own domains.
 *
 * window.tracker.track(type, properties, {fire, asBeacon, context, tags}) queues an event; the
 * page's events go out as one request once the page has loaded, later ones in small batches.
 * `fire: true` sends at once, `asBeacon: true` sends at once with navigator.sendBeacon (it
 * survives leaving the page), and whatever is unsent when the page is hidden goes by beacon.
 *
 * Every request and answer is also announced as a DOM event on window: `tracker:request`
 * (detail: {payload, beacon}) and `tracker:response` (detail: {status, body, payload}; status 0
 * when the request failed on the network); `tracker:ux` (detail: {items}) once an answer's ux
 * items are on the page.
 *
 * Personalisation: the answer's `ux` items are added to the page (see renderUx: widget scripts
 * load from the CDP, raw HTML items run their scripts), and its `response` goes to the page's
 * callbacks: window.tracker.onResponse(fn) after every answer, Tracardi's
 * window.onTracardiReady.bind(fn) once (see answerResponse). Neither a broken ux item nor a
 * throwing callback stops the tracker: each is one console message.
 */
(function (win, doc, nav) {
    "use strict";

    var PROFILE_KEY = "tracardi-profile-id";
    var SESSION_COOKIE = "tracardi-session-id";
    var SESSION_SECONDS = 30 * 60;
    var BATCH_DELAY_MS = 50;           // later events of one moment share a request
    var MAX_RETRY_BATCHES = 10;        // bounded: a dead server must not eat the page's memory
    var MAX_QUEUED_EVENTS = 200;
    var TAG_ATTRIBUTE = "data-tracardi-tag";
    var TRIGGERS = ["onVisible", "onTextSelect", "onMouseOver", "onClick"];
    var UTM_KEYS = ["source", "medium", "campaign", "term", "content"];
    var LOCATION_WAIT_MS = 1000;

    if (win.tracker && win.tracker.loaded) {
        return;  // loaded twice: keep the running instance
    }

    var loaderStub = win.tracker || {};
    var earlyCalls = Array.isArray(loaderStub.q) ? loaderStub.q : [];
    var config = readOptions();
    var tracker = (config && config.tracker) || {};
    var settings = tracker.settings || {};
    var retrySettings = settings.retry || {};
    var maxAttempts = positive(retrySettings.attempts, 5);
    var retryDelayMs = positive(retrySettings.delay, 1000);
    var contextScope = assign(
        {
            browser: true, page: true, screen: true, utm: true, performance: false,
            storage: false, cookies: false, location: false, tracardiPass: true
        },
        tracker.context || {}
    );
    var GEO_COOKIE = "__tr_geo";
    // Tracardi's default for `location: true`: a free geolocation service, asked once per
    // browser (the answer is kept in a cookie); `location: {url, data}` names another.
    var DEFAULT_LOCATION = {
        url: "https://geolocation-db.com/json/",
        data: function (data) {
            return data ? {
                country: {name: data.country_name, code: data.country_code},
                city: data.city,
                county: data.state,
                latitude: data.latitude,
                longitude: data.longitude,
                ip: data.IPv4
            } : null;
        }
    };

    var pageQueue = [];                // events waiting for the next batch
    var retryQueue = [];               // batches waiting for another attempt
    var pageLoaded = false;
    var batchTimer = null;
    var disabledReason = null;
    var sourceErrorShown = false;

    // ---- configuration ---------------------------------------------------------------

    function readOptions() {
        try {
            /* global options */
            if (typeof options !== "undefined") {
                return options;
            }
        } catch (notDefined) {
            // no global `options`: fall through
        }
        return win.tracardiOptions;
    }

    function positive(value, fallback) {
        return typeof value === "number" && value > 0 ? value : fallback;
    }

    function assign(target, source) {
        for (var key in source) {
            if (Object.prototype.hasOwnProperty.call(source, key)) {
                target[key] = source[key];
            }
        }
        return target;
    }

    function apiUrl() {
        var base = (tracker.url && tracker.url.api) || "";
        return base.replace(/\/+$/, "") + "/track";
    }

    function sourceId() {
        return tracker.source && tracker.source.id ? String(tracker.source.id).trim() : "";
    }

    function doNotTrack() {
        var flag = nav.doNotTrack || win.doNotTrack || nav.msDoNotTrack;
        return settings.respectDoNotTrack === true && (flag === "1" || flag === "yes");
    }

    // ---- identity: profile in localStorage, session in a cookie -------------------------

    function uuid() {
        if (win.crypto && typeof win.crypto.randomUUID === "function") {
            return win.crypto.randomUUID();
        }
        var bytes = new Uint8Array(16);
        win.crypto.getRandomValues(bytes);
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        var hex = [];
        for (var i = 0; i < 16; i++) {
            hex.push((bytes[i] + 0x100).toString(16).slice(1));
        }
        hex = hex.join("");
        return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" +
            hex.slice(16, 20) + "-" + hex.slice(20);
    }

    function storageGet(key) {
        try {
            return win.localStorage.getItem(key);
        } catch (blocked) {
            return null;
        }
    }

    function storageSet(key, value) {
        try {
            win.localStorage.setItem(key, value);
        } catch (blocked) {
            // storage disabled: the profile id lives as long as the page
        }
    }

    function readCookie(name) {
        var parts = doc.cookie ? doc.cookie.split(";") : [];
        for (var i = 0; i < parts.length; i++) {
            var pair = parts[i].replace(/^\s+/, "");
            if (pair.indexOf(name + "=") === 0) {
                return decodeURIComponent(pair.slice(name.length + 1));
            }
        }
        return null;
    }

    var profileId = storageGet(PROFILE_KEY);
    var sessionId = readCookie(SESSION_COOKIE);

    function keepSession(id) {
        // Written on every send: the session ends after 30 minutes without activity.
        sessionId = id;
        var secure = win.location.protocol === "https:" ? "; Secure" : "";
        doc.cookie = SESSION_COOKIE + "=" + encodeURIComponent(id) + "; max-age=" +
            SESSION_SECONDS + "; path=/; SameSite=Lax" + secure;
    }

    function currentSession() {
        // The cookie may have expired while the page stayed open.
        var stored = readCookie(SESSION_COOKIE);
        keepSession(stored || uuid());
        return sessionId;
    }

    function keepProfile(id) {
        if (id && id !== profileId) {
            profileId = id;
            storageSet(PROFILE_KEY, id);
        }
    }

    // ---- context ---------------------------------------------------------------------

    function queryParams(search) {
        var params = {};
        (search || "").replace(/^\?/, "").split("&").forEach(function (part) {
            if (!part) {
                return;
            }
            var index = part.indexOf("=");
            var key = index < 0 ? part : part.slice(0, index);
            var value = index < 0 ? "" : part.slice(index + 1);
            try {
                params[decodeURIComponent(key.replace(/\+/g, " "))] =
                    decodeURIComponent(value.replace(/\+/g, " "));
            } catch (malformed) {
                params[key] = value;
            }
        });
        return params;
    }

    function utmFromUrl() {
        var params = queryParams(win.location.search);
        var utm = {};
        var found = false;
        UTM_KEYS.forEach(function (key) {
            if (params["utm_" + key]) {
                utm[key] = params["utm_" + key];
                found = true;
            }
        });
        return found ? utm : null;
    }

    function refererContext() {
        if (!doc.referrer) {
            return {host: null, query: null};
        }
        try {
            var referer = new URL(doc.referrer);
            return {host: referer.host, query: referer.search ? referer.search.slice(1) : null};
        } catch (badUrl) {
            return {host: null, query: null};
        }
    }

    function sessionContext() {
        var context = {};
        var timeZone = null;
        try {
            timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
        } catch (noIntl) {
            timeZone = null;
        }
        context.time = {local: new Date().toLocaleString(), tz: timeZone};
        if (contextScope.browser) {
            context.browser = {
                local: {
                    browser: {
                        name: nav.appName,
                        engine: nav.product,
                        appVersion: nav.appVersion,
                        userAgent: nav.userAgent,
                        language: nav.language,
                        onLine: nav.onLine,
                        javaEnabled: false,
                        cookieEnabled: nav.cookieEnabled
                    },
                    device: {platform: nav.platform}
                }
            };
        }
        if (contextScope.screen && win.screen) {
            context.screen = {
                local: {
                    width: win.screen.width,
                    height: win.screen.height,
                    innerWidth: win.innerWidth,
                    innerHeight: win.innerHeight,
                    availWidth: win.screen.availWidth,
                    availHeight: win.screen.availHeight,
                    colorDepth: win.screen.colorDepth,
                    pixelDepth: win.screen.pixelDepth
                }
            };
        }
        var utm = contextScope.utm ? utmFromUrl() : null;
        if (utm) {
            context.utm = utm;
        }
        if (contextScope.storage === true) {
            context.storage = {local: localStorageCopy()};
        }
        if (contextScope.cookies === true) {
            context.storage = context.storage || {};
            // Tracardi's shape: the raw cookie string, and its parts decoded.
            context.storage.cookies = {
                cookies1: doc.cookie,
                cookies2: safeDecode(doc.cookie.split(";").join(","))
            };
        }
        var geo = contextScope.location ? storedLocation() : null;
        if (geo) {
            context.location = geo;
        }
        var handed = contextScope.tracardiPass === false ? null : handOffFromUrl();
        if (handed) {
            context.tracardi = {pass: handed};
        }
        return context;
    }

    function safeDecode(text) {
        try {
            return decodeURIComponent(text);
        } catch (malformed) {
            return text;
        }
    }

    function localStorageCopy() {
        var copy = {};
        try {
            for (var i = 0; i < win.localStorage.length; i++) {
                var key = win.localStorage.key(i);
                copy[key] = win.localStorage.getItem(key);
            }
        } catch (blocked) {
            // storage disabled: nothing to send
        }
        return copy;
    }

    function handOffFromUrl() {
        var params = queryParams(win.location.search);
        var handed = {};
        if (params.__tr_pid) {
            handed.profile = params.__tr_pid;
        }
        if (params.__tr_src) {
            handed.source = params.__tr_src;
        }
        return handed.profile || handed.source ? handed : null;
    }

    // ---- location (Tracardi's context.location): fetched once, kept in a cookie ----------

    function locationConfig() {
        var option = contextScope.location;
        if (option === true) {
            return DEFAULT_LOCATION;
        }
        return option && typeof option.url === "string" ? option : null;
    }

    function storedLocation() {
        var stored = readCookie(GEO_COOKIE);
        if (!stored) {
            return null;
        }
        try {
            return JSON.parse(stored);
        } catch (broken) {
            doc.cookie = GEO_COOKIE + "=; max-age=0; path=/";
            return null;
        }
    }

    function locationFetch() {
        var option = locationConfig();
        if (!option || readCookie(GEO_COOKIE) || !win.fetch) {
            return Promise.resolve();
        }
        return fetch(option.url, {method: "GET", credentials: "omit"}).then(function (response) {
            return response.json();
        }).then(function (json) {
            var geo = typeof option.data === "function" ? option.data(json) : json;
            if (geo) {
                doc.cookie = GEO_COOKIE + "=" + encodeURIComponent(JSON.stringify(geo)) +
                    "; path=/; SameSite=Lax";
            }
        }).catch(function (error) {
            console.warn("[Tracker] Could not read the location from " + option.url + ": " +
                (error && error.message || error));
        });
    }

    function eventContext(extra) {
        var context = {};
        if (contextScope.page) {
            context.page = {
                url: win.location.href,
                path: win.location.pathname,
                hash: win.location.hash,
                title: doc.title,
                referer: refererContext(),
                history: {length: win.history.length}
            };
        }
        if (contextScope.performance && win.performance && win.performance.getEntriesByType) {
            var navigation = win.performance.getEntriesByType("navigation")[0];
            if (navigation && navigation.toJSON) {
                context.performance = navigation.toJSON();
            }
        }
        if (extra && typeof extra === "object") {
            assign(context, extra);
        }
        return context;
    }

    // ---- events and payloads -----------------------------------------------------------

    function buildEvent(type, properties, eventOptions) {
        eventOptions = eventOptions || {};
        var sentOptions = {};
        for (var key in eventOptions) {
            if (Object.prototype.hasOwnProperty.call(eventOptions, key) &&
                ["fire", "asBeacon", "context", "tags"].indexOf(key) < 0) {
                sentOptions[key] = eventOptions[key];
            }
        }
        var event = {
            // Generated once: a retry sends the same id and the server stores the event once.
            id: uuid(),
            type: String(type),
            properties: properties && typeof properties === "object" ? properties : {},
            options: sentOptions,
            context: eventContext(eventOptions.context),
            time: {create: new Date().toISOString()}
        };
        if (Array.isArray(eventOptions.tags)) {
            event.tags = eventOptions.tags.map(String);
        }
        return event;
    }

    function buildPayload(events) {
        var payload = {
            source: {id: sourceId()},
            session: {id: currentSession()},
            context: sessionContext(),
            properties: {},
            events: events,
            options: {}
        };
        if (profileId) {
            payload.profile = {id: profileId};
        }
        return payload;
    }

    // ---- sending -----------------------------------------------------------------------

    function announce(name, detail) {
        try {
            win.dispatchEvent(new CustomEvent(name, {detail: detail}));
        } catch (oldBrowser) {
            // no CustomEvent: nobody can listen anyway
        }
    }

    function newBatch(events) {
        var batch = {events: events, payload: null, attempt: 0, waiters: [], timer: null};
        batch.done = new Promise(function (resolve) {
            batch.waiters.push(resolve);
        });
        return batch;
    }

    function settle(batch, data) {
        batch.waiters.splice(0, batch.waiters.length).forEach(function (resolve) {
            resolve(data);
        });
    }

    function sendBeacon(events) {
        var payload = buildPayload(events);
        announce("tracker:request", {payload: payload, beacon: true});
        // text/plain keeps the beacon a "simple" cross-origin request (no preflight);
        // /track reads the body as JSON whatever its content type.
        var blob = new Blob([JSON.stringify(payload)], {type: "text/plain;charset=UTF-8"});
        if (nav.sendBeacon && nav.sendBeacon(apiUrl(), blob)) {
            return Promise.resolve(null);
        }
        var batch = newBatch(events);
        batch.payload = payload;
        post(batch, true);
        return batch.done;
    }

    // Until the server has named this visitor's profile, requests go one at a time: two
    // first requests in parallel would each be a "first visit".
    var identityPending = null;

    function sendBatch(events) {
        if (!events.length || disabledReason) {
            return Promise.resolve(null);
        }
        var batch = newBatch(events);

        function start() {
            if (disabledReason) {
                settle(batch, null);
                return;
            }
            // Built once: every retry resends the same payload with the same event ids.
            batch.payload = buildPayload(events);
            announce("tracker:request", {payload: batch.payload, beacon: false});
            post(batch, false);
        }

        if (identityPending) {
            identityPending.then(start);
        } else {
            start();
            if (!profileId) {
                identityPending = batch.done.then(function () {
                    identityPending = null;
                });
            }
        }
        return batch.done;
    }

    function post(batch, keepalive) {
        var body = JSON.stringify(batch.payload);
        batch.attempt += 1;
        fetch(apiUrl(), {
            method: "POST",
            headers: {"Content-Type": "application/json", "x-timestamp": String(Date.now() / 1000)},
            body: body,
            credentials: "omit",
            keepalive: Boolean(keepalive) && body.length < 60000
        }).then(function (response) {
            return response.text().then(function (text) {
                var data = null;
                try {
                    data = text ? JSON.parse(text) : null;
                } catch (notJson) {
                    data = text;
                }
                handleAnswer(batch, response.status, data);
            });
        }).catch(function (networkError) {
            announce("tracker:response", {
                status: 0, body: {detail: networkError.message}, payload: batch.payload
            });
            retryLater(batch, "network error: " + networkError.message);
        });
    }

    function handleAnswer(batch, status, data) {
        announce("tracker:response", {status: status, body: data, payload: batch.payload});
        if (status === 200) {
            if (data && data.profile && data.profile.id) {
                keepProfile(data.profile.id);
            }
            if (data && data.session && data.session.id && data.session.id !== sessionId) {
                keepSession(data.session.id);
            }
            if (data && Array.isArray(data.ux)) {
                renderUx(data.ux);
            }
            answerResponse(data);
            settle(batch, data);
        } else if (status === 401 || status === 403) {
            reportSourceRejected(data);
            settle(batch, null);
        } else if (status === 408 || status === 429 || status >= 500) {
            retryLater(batch, "HTTP " + status);
        } else {
            console.error(
                "[Tracker] /track refused the events (HTTP " + status + "): " +
                detailText(data) + ". They are not sent again."
            );
            settle(batch, null);
        }
    }

    function detailText(data) {
        if (data && data.detail !== undefined) {
            return typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail);
        }
        return typeof data === "string" ? data.slice(0, 300) : JSON.stringify(data);
    }

    function reportSourceRejected(data) {
        // Every later request would be refused too: stop sending and say what to check.
        disabledReason = "source rejected";
        retryQueue.splice(0, retryQueue.length).forEach(function (batch) {
            clearTimeout(batch.timer);
            settle(batch, null);
        });
        if (sourceErrorShown) {
            return;
        }
        sourceErrorShown = true;
        console.error(
            "[Tracker] The CDP at " + apiUrl() + " refused event source \"" + sourceId() +
            "\" (" + detailText(data) + "). Check options.tracker.source.id in the snippet: " +
            "it must be the id of an enabled event source with bridge \"REST API (/track)\" in " +
            "the CDP admin. Nothing is tracked on this page."
        );
    }

    function retryLater(batch, reason) {
        if (disabledReason) {
            settle(batch, null);
            return;
        }
        if (batch.attempt >= maxAttempts) {
            console.error(
                "[Tracker] Giving up on " + batch.events.length + " event(s) after " +
                batch.attempt + " attempts (" + reason + ")."
            );
            settle(batch, null);
            return;
        }
        retryQueue.push(batch);
        while (retryQueue.length > MAX_RETRY_BATCHES) {
            var dropped = retryQueue.shift();
            clearTimeout(dropped.timer);
            console.warn("[Tracker] Retry queue full: dropped " + dropped.events.length +
                " event(s).");
            settle(dropped, null);
        }
        // Exponential backoff with jitter: 1 s, 2 s, 4 s, ... (settings.retry.delay scales it).
        var delay = retryDelayMs * Math.pow(2, batch.attempt - 1) * (0.75 + Math.random() * 0.5);
        console.warn("[Tracker] /track failed (" + reason + "); retrying in " +
            Math.round(delay) + " ms.");
        batch.timer = setTimeout(function () {
            batch.timer = null;
            var index = retryQueue.indexOf(batch);
            if (index >= 0) {  // else already sent by beacon or dropped
                retryQueue.splice(index, 1);
                post(batch, false);
            }
        }, delay);
    }

    function flush() {
        if (batchTimer) {
            clearTimeout(batchTimer);
            batchTimer = null;
        }
        var waiting = pageQueue.splice(0, pageQueue.length);
        var result = sendBatch(waiting.map(function (item) {
            return item.event;
        }));
        waiting.forEach(function (item) {
            result.then(item.resolve);
        });
        return result;
    }

    function scheduleFlush() {
        if (pageLoaded && !batchTimer) {
            batchTimer = setTimeout(flush, BATCH_DELAY_MS);
        }
    }

    function flushByBeacon() {
        // The page is going away: timers will not run, so everything unsent leaves now.
        if (disabledReason) {
            return;
        }
        if (batchTimer) {
            clearTimeout(batchTimer);
            batchTimer = null;
        }
        var events = pageQueue.splice(0, pageQueue.length).map(function (item) {
            item.resolve(null);
            return item.event;
        });
        retryQueue.splice(0, retryQueue.length).forEach(function (batch) {
            clearTimeout(batch.timer);
            settle(batch, null);
            events = events.concat(batch.events);
        });
        if (events.length) {
            sendBeacon(events);
        }
    }

    function track(type, properties, eventOptions) {
        if (disabledReason) {
            return Promise.resolve(null);
        }
        if (typeof type !== "string" || !type.trim()) {
            console.error("[Tracker] tracker.track needs an event type (a non-empty string).");
            return Promise.resolve(null);
        }
        eventOptions = eventOptions || {};
        var event = buildEvent(type, properties, eventOptions);
        if (eventOptions.asBeacon === true) {
            return sendBeacon([event]);
        }
        if (eventOptions.fire === true) {
            return sendBatch([event]);
        }
        if (pageQueue.length >= MAX_QUEUED_EVENTS) {
            console.warn("[Tracker] Too many unsent events: " + type + " was dropped.");
            return Promise.resolve(null);
        }
        return new Promise(function (resolve) {
            pageQueue.push({event: event, resolve: resolve});
            scheduleFlush();
        });
    }

    // ---- ux: elements the server asks to add to the page -------------------------------
    //
    // Each item is {tag, props, content}: an element with those attributes and `content` as
    // its text. Two kinds are special:
    // - a script whose `src` starts with a single "/" (e.g. /tracker/widgets/rating.js, what
    //   the CDP's UX actions send) is loaded from the CDP: the path is resolved against
    //   options.tracker.url.api, not against the shop's page; a script already loaded by an
    //   earlier answer is not loaded again (the widget scripts pick up new markers by the
    //   `tracker:ux` event announced after every rendering);
    // - an item with the attribute data-cdp-html (the HTML/JavaScript tag action) has HTML as
    //   its content; <script> elements in it run, in order.
    // An item that fails is skipped with one console message; the others still render.

    var RAW_HTML_ATTRIBUTE = "data-cdp-html";
    var loadedScripts = {};

    function cdpUrl(path) {
        var base = ((tracker.url && tracker.url.api) || "").replace(/\/+$/, "");
        return base + path;
    }

    function runnableCopy(script) {
        // Scripts put in by innerHTML never run; a fresh element with the same attributes does.
        var copy = doc.createElement("script");
        Array.prototype.forEach.call(script.attributes, function (attribute) {
            copy.setAttribute(attribute.name, attribute.value);
        });
        copy.async = false;  // external ones run in document order, like in a page
        copy.text = script.text;
        return copy;
    }

    function renderUxItem(item) {
        if (!item || typeof item.tag !== "string" || !/^[a-zA-Z][a-zA-Z0-9-]*$/.test(item.tag)) {
            console.warn("[Tracker] Skipped a ux item without a valid tag:", item);
            return;
        }
        var props = item.props && typeof item.props === "object" ? item.props : {};
        var tag = item.tag.toLowerCase();
        var src = tag === "script" && typeof props.src === "string" ? props.src : null;
        if (src && /^\/(?!\/)/.test(src)) {
            src = cdpUrl(src);
        }
        if (src) {
            if (loadedScripts[src]) {
                return;
            }
            loadedScripts[src] = true;
        }
        var element = doc.createElement(tag);
        for (var name in props) {
            if (Object.prototype.hasOwnProperty.call(props, name)) {
                element.setAttribute(name, name === "src" && src ? src : props[name]);
            }
        }
        var raw = Object.prototype.hasOwnProperty.call(props, RAW_HTML_ATTRIBUTE);
        if (raw && typeof item.content === "string") {
            element.innerHTML = item.content;
            Array.prototype.forEach.call(element.querySelectorAll("script"), function (script) {
                script.parentNode.replaceChild(runnableCopy(script), script);
            });
        } else if (item.content !== undefined && item.content !== null) {
            element.textContent = String(item.content);
        }
        if (src) {
            element.onerror = function () {
                console.error("[Tracker] Could not load " + src + " (a ux script of the answer).");
            };
        }
        (doc.body || doc.documentElement).appendChild(element);
    }

    function renderUx(items) {
        items.forEach(function (item) {
            try {
                renderUxItem(item);
            } catch (error) {
                console.error("[Tracker] A ux item could not be added to the page (" +
                    (error && error.message) + "):", item);
            }
        });
        if (items.length) {
            announce("tracker:ux", {items: items});
        }
    }

    // ---- the answer's `response`, for the page's own code --------------------------------
    //
    // window.tracker.onResponse(fn): fn(response) after every /track answer (200), with the
    // answer's `response` object ({} when no workflow filled it). Tracardi's hook works too:
    // window.onTracardiReady.bind(fn) calls fn({tracker, helpers, context, config}) once, after
    // the first answer, with `context` the whole answer (so context.response). A callback that
    // throws is reported on the console and never stops the tracker or other callbacks.

    var responseCallbacks = [];
    var readyCalled = false;

    function tracardiReadyHook() {
        var hook = win.onTracardiReady;
        if (!hook || typeof hook.bind !== "function" || typeof hook.call !== "function") {
            var bound = [];
            hook = win.onTracardiReady = {
                bind: function (callback) {
                    if (typeof callback === "function") {
                        bound.push(callback);
                    }
                },
                call: function (params) {
                    bound.forEach(function (callback) {
                        safely("A window.onTracardiReady callback", callback, params);
                    });
                }
            };
        }
        return hook;
    }

    function safely(what, callback, argument) {
        try {
            callback(argument);
        } catch (error) {
            console.error("[Tracker] " + what + " failed: " + (error && error.message || error));
        }
    }

    function onResponse(callback) {
        if (typeof callback !== "function") {
            console.error("[Tracker] tracker.onResponse needs a function.");
            return;
        }
        responseCallbacks.push(callback);
    }

    function answerResponse(data) {
        var response = data && data.response && typeof data.response === "object" ?
            data.response : {};
        responseCallbacks.slice().forEach(function (callback) {
            safely("An onResponse callback", callback, response);
        });
        if (!readyCalled) {
            readyCalled = true;
            var params = {tracker: api, helpers: helpers, context: data || {}, config: config};
            safely("window.onTracardiReady", function () {
                tracardiReadyHook().call(params);
            });
        }
    }

    // ---- auto triggers bound through data-tracardi-tag ----------------------------------

    var triggersByTag = {};

    function bindTriggers(triggers) {
        if (!Array.isArray(triggers)) {
            return;
        }
        triggers.forEach(function (trigger) {
            if (!trigger || !trigger.tag || TRIGGERS.indexOf(trigger.trigger) < 0) {
                console.warn("[Tracker] Skipped an auto trigger; it needs a tag and one of " +
                    TRIGGERS.join(", ") + ":", trigger);
                return;
            }
            if (!trigger.data || !trigger.data.event) {
                console.warn("[Tracker] Skipped an auto trigger without data.event:", trigger);
                return;
            }
            var tag = String(trigger.tag);
            (triggersByTag[tag] = triggersByTag[tag] || []).push(trigger);
        });
        if (!Object.keys(triggersByTag).length) {
            return;
        }
        doc.addEventListener("click", onClick, true);
        doc.addEventListener("mouseover", onMouseOver, true);
        doc.addEventListener("mouseup", onSelectionEnd, true);
        doc.addEventListener("keyup", onSelectionEnd, true);
        doc.addEventListener("touchend", onSelectionEnd, true);
        watchVisibility();
    }

    function taggedAncestor(node) {
        while (node && node !== doc) {
            if (node.nodeType === 1 && node.hasAttribute(TAG_ATTRIBUTE)) {
                return node;
            }
            node = node.parentNode;
        }
        return null;
    }

    function triggersFor(element, kind) {
        var all = triggersByTag[element.getAttribute(TAG_ATTRIBUTE)] || [];
        return all.filter(function (trigger) {
            return trigger.trigger === kind;
        });
    }

    function elementProperties(element) {
        var properties = {tag: element.getAttribute(TAG_ATTRIBUTE)};
        var label = element.getAttribute("alt") || element.getAttribute("title") ||
            element.getAttribute("aria-label");
        if (label) {
            properties.label = label;
        }
        if (element.id) {
            properties.elementId = element.id;
        }
        var url = element.getAttribute("src") || element.getAttribute("href");
        if (url) {
            properties.url = url;
        }
        return properties;
    }

    function fireTrigger(element, trigger, extra) {
        var properties = assign(elementProperties(element), trigger.data.properties || {});
        assign(properties, extra || {});
        // A click on a link may leave the page before a normal request finishes; before the
        // page has loaded, trigger events join the page's first request.
        var leaving = trigger.trigger === "onClick" && element.closest && element.closest("a[href]");
        var eventOptions = leaving ? {asBeacon: true} : (pageLoaded ? {fire: true} : {});
        if (trigger.data.context) {
            eventOptions.context = trigger.data.context;
        }
        return track(trigger.data.event, properties, eventOptions);
    }

    function onClick(domEvent) {
        var element = taggedAncestor(domEvent.target);
        if (element) {
            triggersFor(element, "onClick").forEach(function (trigger) {
                fireTrigger(element, trigger);
            });
        }
    }

    var hovered = typeof WeakSet === "function" ? new WeakSet() : null;

    function onMouseOver(domEvent) {
        var element = taggedAncestor(domEvent.target);
        if (!element || (domEvent.relatedTarget && element.contains(domEvent.relatedTarget))) {
            return;  // moving inside the element is not a new hover
        }
        var triggers = triggersFor(element, "onMouseOver");
        if (!triggers.length || (hovered && hovered.has(element))) {
            return;  // one hover event per element and page view
        }
        if (hovered) {
            hovered.add(element);
        }
        triggers.forEach(function (trigger) {
            fireTrigger(element, trigger);
        });
    }

    var lastSelection = {element: null, text: ""};

    function onSelectionEnd() {
        var selection = win.getSelection ? win.getSelection() : null;
        var text = selection ? selection.toString().trim() : "";
        if (!text || !selection.rangeCount) {
            return;
        }
        var element = taggedAncestor(selection.getRangeAt(0).commonAncestorContainer);
        if (!element) {
            return;
        }
        var triggers = triggersFor(element, "onTextSelect");
        if (!triggers.length ||
            (lastSelection.element === element && lastSelection.text === text)) {
            return;
        }
        lastSelection = {element: element, text: text};
        triggers.forEach(function (trigger) {
            fireTrigger(element, trigger, {text: text.slice(0, 1000)});
        });
    }

    function watchVisibility() {
        var tags = Object.keys(triggersByTag).filter(function (tag) {
            return triggersByTag[tag].some(function (trigger) {
                return trigger.trigger === "onVisible";
            });
        });
        if (!tags.length || typeof IntersectionObserver !== "function") {
            return;
        }
        var observer = new IntersectionObserver(function (entries) {
            entries.forEach(function (entry) {
                // Visible: half of the element is on screen, or it fills half the viewport.
                var viewport = entry.rootBounds;
                var shown = entry.intersectionRect;
                var fillsHalf = viewport && shown.width * shown.height >=
                    0.5 * viewport.width * viewport.height;
                if (entry.isIntersecting && (entry.intersectionRatio >= 0.5 || fillsHalf)) {
                    observer.unobserve(entry.target);  // one event per element and page view
                    triggersFor(entry.target, "onVisible").forEach(function (trigger) {
                        fireTrigger(entry.target, trigger);
                    });
                }
            });
        }, {threshold: [0, 0.25, 0.5, 0.75, 1]});
        var seen = typeof WeakSet === "function" ? new WeakSet() : null;

        function observeAll(root) {
            tags.forEach(function (tag) {
                var selector = "[" + TAG_ATTRIBUTE + "=\"" + tag.replace(/["\\]/g, "\\$&") + "\"]";
                var found = root.querySelectorAll ? root.querySelectorAll(selector) : [];
                var candidates = Array.prototype.slice.call(found);
                if (root.matches && root.matches(selector)) {
                    candidates.push(root);
                }
                candidates.forEach(function (element) {
                    if (!seen || !seen.has(element)) {
                        if (seen) {
                            seen.add(element);
                        }
                        observer.observe(element);
                    }
                });
            });
        }

        observeAll(doc);
        if (typeof MutationObserver === "function") {
            // Elements added later (lazy content, single-page apps) are watched too.
            new MutationObserver(function (mutations) {
                mutations.forEach(function (mutation) {
                    Array.prototype.forEach.call(mutation.addedNodes, function (node) {
                        if (node.nodeType === 1) {
                            observeAll(node);
                        }
                    });
                });
            }).observe(doc.documentElement, {childList: true, subtree: true});
        }
    }

    // ---- Tracardi's helpers (onTracardiReady's `helpers`) -------------------------------
    //
    // helpers.track(type, properties, options) sends one event at once and resolves with
    // {status, data} (data: the answer), as Tracardi's helper does; {asBeacon: true} sends it
    // by beacon (resolves with null). helpers.onClick(target, fn) and
    // helpers.addListener(target, events, fn) bind fn to elements (an element, a CSS
    // selector, or a list of them; events: a name, names separated by spaces or commas, or a
    // list) and return a function that unbinds it.

    function elementsOf(target) {
        if (typeof target === "string") {
            return Array.prototype.slice.call(doc.querySelectorAll(target));
        }
        if (target && typeof target.length === "number" && !target.addEventListener) {
            return Array.prototype.slice.call(target);
        }
        return target ? [target] : [];
    }

    function addListener(target, events, callback) {
        var names = Array.isArray(events) ? events : String(events || "").split(/[\s,]+/);
        names = names.filter(Boolean);
        var elements = elementsOf(target);
        if (typeof callback !== "function" || !names.length || !elements.length) {
            console.warn("[Tracker] helpers.addListener needs elements, events and a function:",
                target, events);
            return function () {};
        }
        elements.forEach(function (element) {
            names.forEach(function (name) {
                element.addEventListener(name, callback);
            });
        });
        return function () {
            elements.forEach(function (element) {
                names.forEach(function (name) {
                    element.removeEventListener(name, callback);
                });
            });
        };
    }

    var helpers = {
        track: function (type, properties, eventOptions) {
            var sendOptions = assign({}, eventOptions || {});
            if (sendOptions.asBeacon !== true) {
                sendOptions.fire = true;
            }
            return track(type, properties, sendOptions).then(function (data) {
                return data ? {status: 200, data: data} : null;
            });
        },
        onClick: function (target, callback) {
            return addListener(target, "click", callback);
        },
        addListener: addListener
    };

    // ---- cross-domain links (settings.trackExternalLinks) ---------------------------------

    function handOffLink(anchor) {
        var domains = settings.trackExternalLinks;
        if (!profileId || !Array.isArray(domains) || !domains.length || !anchor.href) {
            return;
        }
        var url;
        try {
            url = new URL(anchor.href);
        } catch (badUrl) {
            return;
        }
        if (url.protocol !== "http:" && url.protocol !== "https:") {
            return;
        }
        var matches = domains.some(function (domain) {
            var name = String(domain).trim().toLowerCase();
            var host = url.hostname.toLowerCase();
            return name && (host === name || host.slice(-name.length - 1) === "." + name);
        });
        if (!matches) {
            return;
        }
        url.searchParams.set("__tr_pid", profileId);
        url.searchParams.set("__tr_src", sourceId());
        anchor.href = url.toString();
    }

    function watchExternalLinks() {
        if (!Array.isArray(settings.trackExternalLinks) || !settings.trackExternalLinks.length) {
            return;
        }
        // One listener for the whole page (links added later too), run before the browser
        // follows the link: the link carries the profile id the tracker has at that moment.
        ["click", "auxclick", "contextmenu"].forEach(function (name) {
            doc.addEventListener(name, function (domEvent) {
                var node = domEvent.target;
                while (node && node.nodeType === 1 && node.tagName !== "A") {
                    node = node.parentNode;
                }
                if (node && node.tagName === "A") {
                    handOffLink(node);
                }
            }, true);
        });
    }

    // ---- start ---------------------------------------------------------------------------

    function whenLoaded(callback) {
        if (doc.readyState === "complete") {
            setTimeout(callback, 0);
        } else {
            win.addEventListener("load", function () {
                setTimeout(callback, 0);
            });
        }
    }

    var api = {
        loaded: true,
        track: track,
        flush: flush,
        onResponse: onResponse,
        getProfileId: function () {
            return profileId;
        },
        getSessionId: function () {
            return sessionId;
        },
        // Tracardi's own loader checks this before handing its queued calls over.
        getState: function () {
            var initialized = !disabledReason;
            return {
                plugins: {
                    tracardi: {initialized: initialized},
                    "tracardi-plugin": {initialized: initialized}
                }
            };
        }
    };

    function start() {
        if (!config || !config.tracker) {
            disabledReason = "no options";
            console.error("[Tracker] No `options` with a `tracker` section on this page. " +
                "Paste the snippet from the event source page of the CDP admin.");
            return;
        }
        if (!sourceId() || !(tracker.url && tracker.url.api)) {
            disabledReason = "incomplete options";
            console.error("[Tracker] options.tracker.source.id and options.tracker.url.api " +
                "are both needed. Nothing is tracked.");
            return;
        }
        if (doNotTrack()) {
            disabledReason = "do not track";
            console.info("[Tracker] The browser asks not to be tracked and " +
                "settings.respectDoNotTrack is on: nothing is sent.");
            return;
        }
        var autoEvents = (tracker.auto && tracker.auto.events) || [];
        autoEvents.forEach(function (entry) {
            if (Array.isArray(entry)) {
                track(entry[0], entry[1], entry[2]);
            } else if (entry && entry.type) {
                track(entry.type, entry.properties, entry.options);
            }
        });
        earlyCalls.splice(0, earlyCalls.length).forEach(function (call) {
            if (call[0] === "track") {
                track.apply(null, call.slice(1));
            } else if (call[0] === "onResponse") {
                onResponse(call[1]);
            }
        });
        bindTriggers(tracker.auto && tracker.auto.triggers);
        watchExternalLinks();
        var located = locationFetch();
        win.addEventListener("pagehide", flushByBeacon);
        doc.addEventListener("visibilitychange", function () {
            if (doc.visibilityState === "hidden") {
                flushByBeacon();
            }
        });
        whenLoaded(function () {
            pageLoaded = true;
            // The first request waits (briefly) for a location asked for on this page.
            Promise.race([located, new Promise(function (resolve) {
                setTimeout(resolve, LOCATION_WAIT_MS);
            })]).then(flush);
        });
    }

    api.helpers = helpers;
    // Tracardi's tracker: window.tracardi.default, with its helpers as plugins.tracardi.
    api.plugins = {tracardi: helpers};
    win.tracker = api;
    tracardiReadyHook();
    win.tracardi = win.tracardi || {};
    win.tracardi.default = api;
    start();
})(window, document, navigator);

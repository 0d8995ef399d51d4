/*
 * Rating popup. Config: {title, subject, thanks, event_type, position, colours}. A click on
 * star N sends `event_type` (rating-given) with {"rating": N, "subject": subject}.
 */
var RATING_CSS = [
    ".cdpw-subject{margin:0 0 10px;font-size:14px;opacity:.85;}",
    ".cdpw-stars{display:flex;gap:4px;}",
    ".cdpw-star{width:44px;height:44px;border:0;border-radius:8px;background:transparent;",
    "cursor:pointer;font-size:34px;line-height:44px;padding:0;color:rgba(127,127,127,.55);}",
    ".cdpw-star.cdpw-lit{color:#f5a623;}",
    ".cdpw-star:hover{background:rgba(127,127,127,.12);}"
].join("");

widgetStart("rating", function (host, config) {
    var title = text(config, "title");
    var subject = text(config, "subject");
    var thanks = text(config, "thanks", true);
    var eventType = text(config, "event_type");
    var position = oneOf(config, "position", ["bottom-right", "bottom-left", "center"]);

    var view = frame(host, config, {classes: "cdpw-popup cdpw-" + position, title: title,
        css: RATING_CSS});
    view.box.appendChild(el("p", {"class": "cdpw-subject", text: subject}));
    var stars = el("div", {"class": "cdpw-stars", role: "group", "aria-label": "Rating, 1 to 5 stars"});
    var buttons = [];

    function light(count) {
        buttons.forEach(function (button, index) {
            button.className = "cdpw-star" + (index < count ? " cdpw-lit" : "");
        });
    }

    [1, 2, 3, 4, 5].forEach(function (rating) {
        var button = el("button", {type: "button", "class": "cdpw-star", "data-rating": String(rating),
            "aria-label": rating + " of 5 stars", title: rating + " of 5", text: "\u2605"});
        button.addEventListener("mouseenter", function () { light(rating); });
        button.addEventListener("focus", function () { light(rating); });
        button.addEventListener("click", function () {
            light(rating);
            send(eventType, {rating: rating, subject: subject});
            thank(view, thanks || "Thank you!");
        });
        buttons.push(button);
        stars.appendChild(button);
    });
    stars.addEventListener("mouseleave", function () { light(0); });
    view.box.appendChild(stars);
});

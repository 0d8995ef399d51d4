/*
 * Question popup. Config: {title, question, answers: [text...], submit_label, thanks,
 * event_type, position, colours}. With answers, a click on one sends it; without, the visitor
 * types an answer. Sends `event_type` (question-answered) with {"question", "answer"}.
 */
var QUESTION_CSS = [
    ".cdpw-question{margin:0 32px 12px 0;font-weight:600;}",
    ".cdpw-answers{display:flex;flex-direction:column;gap:8px;}",
    ".cdpw-answers .cdpw-button{text-align:left;width:100%;}",
    ".cdpw-error{color:#b42318;font-size:13px;margin:-6px 0 8px;}"
].join("");

widgetStart("question", function (host, config) {
    var title = text(config, "title", true);
    var question = text(config, "question");
    var answers = config.answers === undefined ? [] : config.answers;
    if (!Array.isArray(answers)) {
        fail("answers must be a list");
    }
    answers.forEach(function (answer, index) {
        if (typeof answer !== "string" || !answer.trim()) {
            fail("answers[" + index + "] is empty");
        }
    });
    var submitLabel = text(config, "submit_label");
    var thanks = text(config, "thanks", true);
    var eventType = text(config, "event_type");
    var position = oneOf(config, "position", ["bottom-right", "bottom-left", "center"]);

    var view = frame(host, config, {classes: "cdpw-popup cdpw-" + position, title: title || null,
        label: question, css: QUESTION_CSS});
    var questionId = uniqueId("question");
    view.box.appendChild(el("p", {"class": "cdpw-question", id: questionId, text: question}));

    function answered(answer) {
        send(eventType, {question: question, answer: answer});
        thank(view, thanks || "Thank you!");
    }

    if (answers.length) {
        var list = el("div", {"class": "cdpw-answers", role: "group", "aria-labelledby": questionId});
        answers.forEach(function (answer) {
            var button = el("button", {type: "button", "class": "cdpw-button cdpw-secondary",
                text: answer});
            button.addEventListener("click", function () { answered(answer); });
            list.appendChild(button);
        });
        view.box.appendChild(list);
        return;
    }
    var input = el("textarea", {"class": "cdpw-input", rows: "3", maxlength: "1000",
        "aria-labelledby": questionId});
    var error = el("p", {"class": "cdpw-error", role: "alert"});
    var form = el("form", {novalidate: "novalidate"}, [input, error,
        el("button", {type: "submit", "class": "cdpw-button", text: submitLabel})]);
    input.addEventListener("input", function () {
        error.textContent = "";
    });
    form.addEventListener("submit", function (event) {
        event.preventDefault();
        var answer = input.value.trim();
        if (!answer) {
            error.textContent = "Please write an answer first.";
            input.focus();
            return;
        }
        answered(answer);
    });
    view.box.appendChild(form);
});

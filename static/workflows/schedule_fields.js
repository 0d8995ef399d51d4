// The workflow schedule form shows only the fields of the choices made: the number for every N
// minutes or hours, the time for every day, the crontab for a crontab; the segment or the
// condition for the audience. Hidden fields keep their values (the server ignores them).
"use strict";
(function () {
  const SHOWN = {
    every: {minutes: ["interval"], hours: ["interval"], day: ["at_time"], crontab: ["crontab"]},
    audience: {segment: ["segment"], condition: ["condition"]},
  };
  function update(name) {
    const checked = document.querySelector("input[name='" + name + "']:checked");
    const choice = checked ? checked.value : "";
    const all = new Set(Object.values(SHOWN[name]).flat());
    const shown = new Set(SHOWN[name][choice] || []);
    all.forEach(function (field) {
      document.querySelectorAll(".form-row.field-" + field).forEach(function (row) {
        row.hidden = !shown.has(field);
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    Object.keys(SHOWN).forEach(function (name) {
      document.querySelectorAll("input[name='" + name + "']").forEach(function (input) {
        input.addEventListener("change", function () { update(name); });
      });
      update(name);
    });
  });
})();

// Forms whose fields depend on a resource type show those of the selected type only. The select
// that decides carries data-type-fields="<prefix>" (rows are `.form-row.field-<prefix>__<type>__<key>`)
// and, when it picks a resource rather than a type, data-resource-types = {resource id: type}.
// Used by the destination form (settings) and the resource form (credentials).
"use strict";
(function () {
  function update(select) {
    // Several prefixes, separated by spaces (a resource's credentials and test credentials).
    select.dataset.typeFields.split(" ").forEach(function (prefix) { show(select, prefix); });
  }
  function show(select, prefix) {
    const types = select.dataset.resourceTypes ? JSON.parse(select.dataset.resourceTypes) : null;
    const type = types ? types[select.value] || "" : select.value;
    const pattern = new RegExp("field-" + prefix + "__([a-z0-9_]+?)__");
    document.querySelectorAll(".form-row[class*='field-" + prefix + "__']").forEach(function (row) {
      const match = row.className.match(pattern);
      row.hidden = !match || match[1] !== type;
    });
    document.querySelectorAll(".field-" + prefix + "_hint").forEach(function (hint) {
      hint.hidden = Boolean(type);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-type-fields]").forEach(function (select) {
      select.addEventListener("change", function () { update(select); });
      update(select);
    });
  });
})();

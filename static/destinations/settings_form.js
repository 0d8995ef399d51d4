// The destination form shows the sender settings of the selected resource's type only: the
// resource select carries {resource id: type} in data-resource-types; each settings row is
// `.form-row.field-settings__<type>__<key>` (apps/destinations/admin/destinations.py).
"use strict";
(function () {
  function update(select) {
    const types = JSON.parse(select.dataset.resourceTypes || "{}");
    const type = types[select.value] || "";
    document.querySelectorAll(".form-row[class*='field-settings__']").forEach(function (row) {
      const match = row.className.match(/field-settings__([a-z0-9_]+?)__/);
      row.hidden = !match || match[1] !== type;
    });
    const hint = document.querySelector(".field-settings_hint");
    if (hint) hint.hidden = Boolean(type);
  }
  document.addEventListener("DOMContentLoaded", function () {
    const select = document.querySelector("select[data-resource-types]");
    if (!select) return;
    select.addEventListener("change", function () { update(select); });
    update(select);
  });
})();

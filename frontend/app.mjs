// Starts GOV.UK and MOJ Frontend components, again inside any fragment htmx swaps in.
import { createAll, initAll as govukInitAll, Button, Checkboxes, ErrorSummary, Radios } from "./govuk-frontend.min.js";
import { initAll as mojInitAll } from "./moj-frontend.min.js";

govukInitAll();
mojInitAll();

document.body.addEventListener("htmx:afterSwap", (event) => {
  const scope = event.detail.target;
  for (const Component of [Button, Checkboxes, ErrorSummary, Radios]) {
    createAll(Component, undefined, scope);
  }
});

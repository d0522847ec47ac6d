// Start the NHS.UK frontend components (header menu, error summary focus, tables...). A module
// script only runs in browsers the frontend supports, which is what its body classes say.
import { initAll } from '/assets/nhsuk-frontend.min.js';

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported');
initAll();

// The portal's only script, loaded as an ES module (so only by browsers GOV.UK Frontend 5 supports).
// No inline scripts anywhere: the page works without this file.
import { initAll } from '../govuk/govuk-frontend.min.js'

// What GOV.UK's page template does with an inline script, which our CSP does not allow.
document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()

// "Hide this page" is static/js/quick-exit.js (loaded in <head>, before the page is drawn).

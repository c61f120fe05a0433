// The portal's only script, loaded as an ES module (so only by browsers GOV.UK Frontend 5 supports).
// No inline scripts anywhere: the page works without this file.
import { initAll } from '../govuk/govuk-frontend.min.js'

// What GOV.UK's page template does with an inline script, which our CSP does not allow.
document.body.classList.add('js-enabled', 'govuk-frontend-supported')

// A form that returns to a section of a long page (#children, #handing-over) left its success
// message at the top, thousands of pixels above on a phone. Move it to the section's heading,
// where the reader lands (the banner then takes focus there). Without this script it stays at
// the top, as before, and is still announced.
const section = window.location.hash &&
  document.getElementById(decodeURIComponent(window.location.hash.slice(1)))
if (section) {
  for (const banner of document.querySelectorAll('.govuk-notification-banner--success')) {
    if (/^H[1-4]$/.test(section.tagName)) section.after(banner)
    else section.prepend(banner)
  }
}
initAll()

// "Hide this page" is static/js/quick-exit.js (loaded in <head>, before the page is drawn).

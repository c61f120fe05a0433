// The portal's only script, loaded as an ES module (so only by browsers GOV.UK Frontend 5 supports).
// No inline scripts anywhere: the page works without this file.
import { initAll } from '../govuk/govuk-frontend.min.js'

// What GOV.UK's page template does with an inline script, which our CSP does not allow.
document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()

// "Hide this page": blank the page at once, then replace it in the history with a neutral page,
// so Back does not return to it. Without JavaScript the same control is a plain link to /hide.
function hidePage (event) {
  event.preventDefault()
  document.documentElement.classList.add('portal-hiding')
  document.title = ''
  window.location.replace(event.currentTarget.href)
}

for (const link of document.querySelectorAll('[data-portal-hide-page]')) {
  link.addEventListener('click', hidePage)
}
